"""Sphinx extension: bibliography labels in author-year form, matching the author-year citations.

sphinxcontrib-bibtex cites in the text as "Mikolov et al. (2010)" (``bibtex_reference_style: author_year``), but
labels the bibliography with pybtex's alphabetic codes ("[MKB+10]") unless told otherwise. This registers a pybtex
style, ``authoryear``, whose labels are "Mikolov et al., 2010" and whose entries are sorted by author, year and
title; ``_config.yml`` selects it with ``bibtex_default_style: authoryear``.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle


class AuthorYearLabels(BaseLabelStyle):
    """'Surname, year', 'Surname and Surname, year' or 'Surname et al., year'."""

    def format_labels(self, sorted_entries):
        labels = list(self._labels(sorted_entries))
        for label in labels:  # two papers with one label: "Vinyals et al., 2015a" and "..., 2015b"
            same = [i for i, x in enumerate(labels) if x == label]
            if len(same) > 1:
                for k, i in enumerate(same):
                    labels[i] = f"{label}{'abcdefgh'[k]}"
        yield from labels

    def _labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [" ".join(p.prelast_names + p.last_names).replace("{", "").replace("}", "") for p in people]
            if names and names[-1] == "others":  # BibTeX's "and others"
                names = [*names[:-1], "", ""]
            if not names:
                who = entry.fields.get("title", "Anonymous")[:20]
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            yield f"{_latex_to_text(who)}, {entry.fields.get('year', 'n.d.')}"


def _latex_to_text(s: str) -> str:
    """The few LaTeX accents the bibliography uses, as Unicode."""
    from pybtex.richtext import Text

    try:
        from pybtex.markup import LaTeXParser

        return LaTeXParser(s).parse().render_as("text")
    except Exception:  # pragma: no cover - plain text is a fine fallback
        return str(Text(s))


class AuthorYearStyle(UnsrtStyle):
    """pybtex's ``unsrt`` entry formatting with author-year labels, sorted by author, year and title."""

    default_label_style = AuthorYearLabels
    default_sorting_style = SortingStyle


def setup(app):
    register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: the book's theme settings that ``_config.yml`` cannot express by itself.

Loaded from ``_config.yml`` (``sphinx: local_extensions: {book_theme: scripts/}``). Jupyter Book 1
reads ``_config.yml`` statically, so the rules below run when Sphinx starts:

1. **Repository, Colab and Binder buttons only for a published book.** ``repository: url:`` is
   the one place the book's address lives; it is ``""`` until there is a public GitHub
   repository. Then the book shows no repository button and no launch buttons (there is nothing
   to link to, and a placeholder address would send readers to a 404). Once it holds
   ``https://github.com/OWNER/REPO``, the repository button is on and the ``launch_buttons:`` of
   ``_config.yml`` (Colab, Binder) appear on every notebook page. (``html:`` cannot say
   ``use_repository_button: true`` itself: Jupyter Book refuses it next to an empty url, and its
   own default is false, so this extension decides.) Any other value stops the build, and so does
   a missing ``url:``, which Jupyter Book would fill with its own repository's address.
   ``scripts/stamp_colab.py`` applies the same rule to the notebooks' Colab badge and setup cell,
   with the same parser (``github_repo``).

2. **No stray top bar.** pydata-sphinx-theme >= 0.16 fills ``navbar_persistent`` with a search
   button whenever the option is absent from ``html_theme_options``, and sphinx-book-theme, which
   has no top navbar, only clears it in its ``theme.conf``, which that check does not see. Every
   page then gets a header bar that holds nothing but a second search box
   (executablebooks/sphinx-book-theme#986). We set the option to ``[]`` unless it is set already.

3. **Each inline script once.** Sphinx 7.4 registers a script added with ``app.add_js_file(None,
   body=...)`` after the builder started (sphinx-thebe's ``THEBE_JS_URL`` config,
   sphinx-togglebutton's selector) under the file name ``None``, then again under ``""`` in
   ``prepare_writing``; the two do not compare equal, so every page declares
   ``const THEBE_JS_URL`` twice and the browser reports a SyntaxError. We drop exact duplicates
   from each page's script list.

4. **Solutions stay out of search.** The solution pages are marked ``nosearch``, so a search for
   "perplexity" finds the chapters and the exercises, not the worked answers.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

# Buttons of sphinx-book-theme that link into the repository.
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button", "use_source_button")
# What Jupyter Book puts in repository_url when _config.yml has no `url:` (its default_config.yml).
JUPYTER_BOOK_DEFAULT_URL = "https://github.com/executablebooks/jupyter-book"


def _stamp_colab():
    """scripts/stamp_colab.py, which holds the one parser of repository urls (loaded by path)."""
    spec = importlib.util.spec_from_file_location("_book_stamp_colab", Path(__file__).with_name("stamp_colab.py"))
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def repository_options(theme_options: dict[str, Any]) -> dict[str, Any]:
    """``html_theme_options`` with the repository and launch buttons on exactly when a repository url is set.

    Jupyter Book copies ``repository: url:`` to ``repository_url`` and ``launch_buttons:`` as is.
    Raises ValueError for a url that is neither empty nor ``https://github.com/OWNER/REPO``.
    """
    opts = dict(theme_options)
    url = str(opts.get("repository_url") or "").strip().rstrip("/")
    if url == JUPYTER_BOOK_DEFAULT_URL:
        raise ValueError('_config.yml has no `repository: url:`; write url: "" until the book is published')
    repo = _stamp_colab().github_repo(url)
    if repo is None:
        opts.pop("repository_url", None)
        opts["launch_buttons"] = {}
        for key in REPOSITORY_BUTTONS:
            opts[key] = False
    else:
        opts["repository_url"] = f"https://github.com/{repo}"
        opts["use_repository_button"] = True
    return opts


def _configure(app, config) -> None:  # "config-inited"
    from sphinx.errors import ExtensionError

    try:
        options = repository_options(config.html_theme_options or {})
    except ValueError as exc:
        raise ExtensionError(str(exc)) from None
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options


def _script_key(script: Any) -> tuple:
    filename = getattr(script, "filename", script)
    attributes = getattr(script, "attributes", {})
    return filename or "", getattr(script, "priority", None), tuple(sorted(attributes.items()))


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:  # "html-page-context"
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _solutions_not_searchable(app, doctree) -> None:  # "doctree-read"
    """Keep the solution pages out of the search index, so that a search shows no worked answers."""
    if app.env.docname.startswith("solutions/"):
        app.env.metadata[app.env.docname]["nosearch"] = True


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("doctree-read", _solutions_not_searchable)
    # Late, after every extension has added its page-specific scripts.
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

#!/usr/bin/env python3
"""Copy the book's pinned front-end assets from ``node_modules`` into ``_static/vendor/``.

The built book must render math (MathJax 3) and saved Jupyter widget state
(ipywidgets 8, via ``@jupyter-widgets/html-manager`` 1.x + RequireJS) with no
network access at all, so nothing may be loaded from a CDN.  The exact versions
are pinned in ``package.json`` / ``package-lock.json``; this script only copies
files, it never downloads anything.  Run it from the repository root::

    npm ci --ignore-scripts
    python scripts/vendor_js.py

Layout produced (the directory is gitignored and rebuilt from scratch on every
run, so the script is idempotent and never leaves stale files behind)::

    _static/vendor/
      mathjax/tex-mml-chtml.js          combined component Sphinx loads (mathjax_path)
      mathjax/{a11y,adaptors,input,output,sre,ui}/
                                        everything that component may lazy-load:
                                        CHTML woff-v2 fonts, TeX extensions requested by
                                        autoload/require, the menu, a11y explorer + SRE
                                        speech maps, the SVG output the menu can switch to
      requirejs/require.js              AMD loader embed-amd.js needs
      jupyter-widgets/embed-amd.js      html-manager bundle (base, controls, output, lumino
                                        are all inlined; its CSS is injected at runtime)
      jupyter-widgets/<hash>.{woff2,woff,ttf}
                                        Font Awesome files embed-amd.js references at runtime
                                        (.eot/.svg fonts skipped: no current browser uses them)
      jupyter-widgets/widgets-setup.js  generated glue loaded before embed-amd.js: tells it where
                                        those fonts live, and maps the MathJax 2 call ipywidgets
                                        makes onto MathJax 3 (see WIDGETS_SETUP_JS below)
      MANIFEST.json                     package versions, file list and sizes

Standard library only.  Exit status is non-zero (with a message) if
``node_modules`` is missing or does not match the pins in ``package.json``.

The module is *also* a tiny Sphinx extension (``setup()`` at the bottom), loaded
from ``_config.yml`` with ``sphinx: local_extensions: {vendor_js: scripts/}``.
It is needed because Jupyter Book 1 adds **every** ``*.js``/``*.css`` file found
anywhere under ``_static/`` to ``html_js_files``, i.e. to every page: without the
extension each page would get ~90 ``<script>`` tags (all MathJax sub-components,
require.js, embed-amd.js) in arbitrary order, which breaks MathJax.  The
extension removes ``vendor/...`` entries from ``html_js_files``/``html_css_files``
so that only ``mathjax_path`` and ``nb_ipywidgets_js`` load them, on the pages
that need them.  It also fails the build early if the vendored tree is missing
and warns (an error under ``-W``) if math or widgets would be loaded from the
network.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# The MathJax combined component Sphinx will load.  tex-mml-chtml.js is what
# Sphinx's own default CDN URL points at, so behaviour matches a default build.
MATHJAX_COMPONENT = "tex-mml-chtml.js"
# Sub-trees of mathjax/es5 that the component can request lazily through its
# loader ("[mathjax]/input/tex/extensions/...", "[mathjax]/output/chtml/fonts/...",
# "[mathjax]/ui/menu", "[mathjax]/a11y/...", "[mathjax]/sre/mathmaps/...").
# Copying whole sub-trees (~8.5 MB) is deliberately chosen over hand-picking
# files: a missing lazily-loaded file only shows up as a broken page at run time
# for some reader who opens the menu or uses an unusual macro.  The other
# top-level combined components (~14 MB) are never loaded and are skipped.
MATHJAX_SUBDIRS = ("a11y", "adaptors", "input", "output", "sre", "ui")

# Font Awesome formats referenced by embed-amd.js's @font-face rules that no
# browser we care about ever fetches: .eot is IE-only and SVG fonts were only
# used by iOS Safari < 5 (every current browser takes the woff2 entry).  Skipping
# them saves ~2.1 MB.  (Other files in html-manager/dist are not needed at all:
# embed.js is the non-AMD bundle, libembed-amd.js is already inlined into
# embed-amd.js as a named define, *.map are source maps.)
FONT_FORMATS_SKIPPED = (".eot", ".svg")

# Generated glue, loaded (via nb_ipywidgets_js) right after require.js and right
# before embed-amd.js, from the same directory as embed-amd.js.  Two jobs:
#
# 1. The bundles inside embed-amd.js compute webpack's public path (used for
#    the Font Awesome URLs in the CSS they inject) from RequireJS's module.uri,
#    which by default points next to the *page* (chapters/@jupyter-widgets/...),
#    i.e. nowhere; ``window.__jupyter_widgets_assets_path__`` is honoured by one
#    bundle only, and only after its CSS was injected.  So map every module
#    embed-amd.js defines (EMBED_AMD_MODULES, checked against the file) to this
#    directory with requirejs.config({paths}), and set the global as well.
#    document.currentScript.src already carries the page's ../ prefix (and
#    Sphinx's ?v=<checksum> query, which the regex drops).
# 2. @jupyter-widgets/base's typeset() calls the MathJax 2 API
#    ``MathJax.Hub.Queue(["Typeset", MathJax.Hub, el])`` whenever window.MathJax
#    exists.  Sphinx loads MathJax 3, which has no Hub, so every widget with a
#    description throws "Cannot read properties of undefined (reading 'Queue')"
#    and LaTeX in widget labels is never typeset.  Give MathJax 3 a Hub whose
#    Queue() waits for MathJax 3's startup and then calls typesetPromise([el]).
#    MathJax 3 *replaces* the window.MathJax config object when its script runs,
#    and may finish starting up only after the widgets render (e.g. when it has
#    extra components to fetch), so the Hub is attached by a window.MathJax
#    setter the moment MathJax 3 installs itself, and readiness is signalled by
#    wrapping its startup.ready.  Works whether or not Sphinx wrote a
#    window.MathJax config object first (it does when mathjax3_config is set,
#    which MyST always does).  Pages without math never get a window.MathJax,
#    and typeset() is then a no-op.
WIDGETS_SETUP_JS = """\
/* Generated by scripts/vendor_js.py -- load after require.js, before embed-amd.js. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (me && me.src) {
    var here = me.src.replace(/[^\\/]*$/, "");
    window.__jupyter_widgets_assets_path__ = here;
    if (window.requirejs) {
      var paths = {};
      var modules = @@MODULES@@;
      for (var i = 0; i < modules.length; i++) {
        paths[modules[i]] = here + "amd-module-" + i;
      }
      window.requirejs.config({ paths: paths });
    }
  }

  var markReady;
  var mathjaxReady = new Promise(function (resolve) { markReady = resolve; });
  var hub = {
    Queue: function () {
      var elements = [];
      for (var i = 0; i < arguments.length; i++) {
        var a = arguments[i];
        if (a && a[0] === "Typeset" && a[2]) { elements.push(a[2]); }
      }
      return mathjaxReady.then(function () {
        var M = window.MathJax;
        return (M.startup.promise || Promise.resolve()).then(function () {
          return M.typesetPromise(elements.length ? elements : undefined);
        });
      }).catch(function (err) { console.warn("MathJax typeset of widget failed:", err); });
    }
  };
  var hooked = false;
  function hook(M) {  // M: window.MathJax, once it is the real MathJax 3 object
    if (!M || !M.version) { return M; }
    if (!M.Hub) { M.Hub = hub; }
    if (M.typesetPromise) { markReady(); return M; }  // startup already finished
    if (!hooked) {
      hooked = true;
      var cfg = M.config || (M.config = {});
      var startup = cfg.startup || (cfg.startup = {});
      var previousReady = startup.ready;
      startup.ready = function () {
        if (previousReady) { previousReady(); } else { window.MathJax.startup.defaultReady(); }
        markReady();
      };
    }
    return M;
  }
  // MathJax 3 replaces window.MathJax (the config object Sphinx writes, or nothing) by
  // itself when its script runs: catch that assignment.  On pages without math nothing
  // is ever assigned, window.MathJax stays undefined and typeset() stays a no-op.
  var current = hook(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = hook(value); }
  });
})();
"""

# Named AMD modules embed-amd.js defines (html-manager 1.0.x); vendor_js checks the list.
EMBED_AMD_MODULES = (
    "@jupyter-widgets/base",
    "@jupyter-widgets/base7",
    "@jupyter-widgets/controls",
    "@jupyter-widgets/controls7",
    "@jupyter-widgets/html-manager",
    "@jupyter-widgets/html-manager/dist/libembed-amd",
)

PACKAGES = ("mathjax", "requirejs", "@jupyter-widgets/html-manager")


class VendorError(RuntimeError):
    pass


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _tree_size(path: Path) -> tuple[int, int]:
    """Return (bytes, file count) below ``path``."""
    if path.is_file():
        return path.stat().st_size, 1
    total = count = 0
    for p in path.rglob("*"):
        if p.is_file():
            total += p.stat().st_size
            count += 1
    return total, count


def check_node_modules(root: Path) -> dict[str, str]:
    """Verify node_modules holds exactly the versions package.json pins."""
    node_modules = root / "node_modules"
    if not node_modules.is_dir():
        raise VendorError(
            f"{node_modules} does not exist: run `npm ci --ignore-scripts` first (from the repository root)."
        )
    pins = json.loads((root / "package.json").read_text(encoding="utf-8"))["dependencies"]
    versions: dict[str, str] = {}
    for name in PACKAGES:
        if name not in pins:
            raise VendorError(f"package.json does not pin {name!r}")
        manifest = node_modules / name / "package.json"
        if not manifest.is_file():
            raise VendorError(f"{name} is not installed in {node_modules}: run `npm ci --ignore-scripts` first.")
        installed = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        if installed != pins[name]:
            raise VendorError(
                f"{name}: node_modules has {installed} but package.json pins {pins[name]}: "
                "run `npm ci --ignore-scripts` again."
            )
        versions[name] = installed
    return versions


def _copy(src: Path, dst: Path) -> None:
    if not src.exists():
        raise VendorError(f"expected file missing from node_modules: {src}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)


def build_vendor_tree(root: Path, out: Path) -> list[tuple[str, Path | list[Path]]]:
    """Populate ``out`` (an empty directory). Returns (label, copied path(s)) pairs."""
    nm = root / "node_modules"
    copied: list[tuple[str, Path | list[Path]]] = []

    # --- MathJax -----------------------------------------------------------
    mj_src = nm / "mathjax" / "es5"
    mj_dst = out / "mathjax"
    for rel in (MATHJAX_COMPONENT, *MATHJAX_SUBDIRS):
        _copy(mj_src / rel, mj_dst / rel)
        copied.append((f"mathjax/es5/{rel}", mj_dst / rel))
    _copy(nm / "mathjax" / "LICENSE", mj_dst / "LICENSE")
    copied.append(("mathjax/LICENSE", mj_dst / "LICENSE"))
    # Sanity checks on what the component will lazy-load.
    for must in ("output/chtml/fonts/woff-v2", "input/tex/extensions/ams.js", "ui/menu.js"):
        if not (mj_dst / must).exists():
            raise VendorError(f"MathJax layout changed: {must} not found in the copied tree")

    # --- RequireJS ---------------------------------------------------------
    _copy(nm / "requirejs" / "require.js", out / "requirejs" / "require.js")
    copied.append(("requirejs/require.js", out / "requirejs" / "require.js"))

    # --- @jupyter-widgets/html-manager --------------------------------------
    hm_dist = nm / "@jupyter-widgets" / "html-manager" / "dist"
    jw_dst = out / "jupyter-widgets"
    embed = hm_dist / "embed-amd.js"
    _copy(embed, jw_dst / "embed-amd.js")
    copied.append(("@jupyter-widgets/html-manager/dist/embed-amd.js", jw_dst / "embed-amd.js"))
    # Every hashed asset embed-amd.js refers to (n.p+"<hash>.<ext>") must sit next to it.
    text = embed.read_text(encoding="utf-8")
    referenced = set(re.findall(r'\.p\+"([0-9a-f]{16,}\.[a-z0-9]+)"', text))
    if not referenced:
        raise VendorError("html-manager layout changed: no webpack assets referenced from embed-amd.js")
    missing = sorted(n for n in referenced if not (hm_dist / n).is_file())
    if missing:
        raise VendorError(f"embed-amd.js references assets not in dist/: {missing}")
    runtime_assets = sorted(n for n in referenced if not n.endswith(FONT_FORMATS_SKIPPED))
    for name in runtime_assets:
        _copy(hm_dist / name, jw_dst / name)
    copied.append(("@jupyter-widgets/html-manager/dist/<hash>.* (Font Awesome)", [jw_dst / n for n in runtime_assets]))
    shim = jw_dst / "widgets-setup.js"
    defined = set(re.findall(r'define\("([^"]+)"', text))
    if defined != set(EMBED_AMD_MODULES):
        raise VendorError(
            f"embed-amd.js defines {sorted(defined)}, expected {sorted(EMBED_AMD_MODULES)}: "
            "update EMBED_AMD_MODULES in scripts/vendor_js.py"
        )
    shim.write_text(WIDGETS_SETUP_JS.replace("@@MODULES@@", json.dumps(list(EMBED_AMD_MODULES))), encoding="utf-8")
    copied.append(("(generated) jupyter-widgets/widgets-setup.js", shim))
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path.cwd(),
        help="repository root holding package.json and node_modules (default: cwd)",
    )
    parser.add_argument("--dest", type=Path, default=None, help="output directory (default: ROOT/_static/vendor)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "package.json").is_file():
        # Convenience: allow running from elsewhere when the script sits in the repo.
        if (REPO_ROOT / "package.json").is_file() and args.root == Path.cwd():
            root = REPO_ROOT
        else:
            print(f"error: no package.json in {root}; run from the repository root", file=sys.stderr)
            return 2
    dest = (args.dest or root / "_static" / "vendor").resolve()

    try:
        versions = check_node_modules(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Build in a sibling temp dir, then swap: a failed run never leaves a
        # half-populated vendor dir, and re-runs never keep stale files.
        for stale in dest.parent.glob(f".{dest.name}-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
        try:
            copied = build_vendor_tree(root, tmp)
            summary = []
            for label, target in copied:
                if isinstance(target, list):
                    summary.append((label, sum(p.stat().st_size for p in target), len(target)))
                else:
                    summary.append((label, *_tree_size(target)))
            files = sorted(p for p in tmp.rglob("*") if p.is_file())
            manifest = {
                "generated_by": "scripts/vendor_js.py",
                "packages": versions,
                "mathjax_component": f"mathjax/{MATHJAX_COMPONENT}",
                "total_bytes": sum(p.stat().st_size for p in files),
                "files": {p.relative_to(tmp).as_posix(): p.stat().st_size for p in files},
            }
            (tmp / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    except VendorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    print(f"Vendored into {dest}:")
    for name, version in versions.items():
        print(f"  {name}@{version}")
    for label, size, count in summary:
        extra = f" ({count} files)" if count and count > 1 else ""
        print(f"  {_human(size):>10}  {label}{extra}")
    total, count = _tree_size(dest)
    print(f"Total: {_human(total)} in {count} files ({total} bytes)")
    return 0


# ---------------------------------------------------------------------------
# Sphinx extension part (only used when Sphinx imports this module).
# ---------------------------------------------------------------------------

#: Where the vendored tree lives, relative to an ``html_static_path`` entry.
VENDOR_STATIC_PREFIX = "vendor/"


def _asset_filename(entry: object) -> str:
    # html_js_files / html_css_files entries are "name" or ("name", {attrs}).
    if isinstance(entry, (tuple, list)) and entry:
        entry = entry[0]
    return str(entry).replace("\\", "/")


def _drop_vendor_assets(app, config) -> None:  # "config-inited"
    """Undo Jupyter Book's blanket add-every-file-under-_static/ for vendor/."""
    for name in ("html_js_files", "html_css_files"):
        entries = list(getattr(config, name, None) or [])
        kept = [e for e in entries if not _asset_filename(e).startswith(VENDOR_STATIC_PREFIX)]
        if len(kept) != len(entries):
            setattr(config, name, kept)


def _check_vendor_tree(app) -> None:  # "builder-inited"
    """Fail early if vendor_js.py was not run; warn about any CDN URLs left in the config."""
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    if getattr(app.builder, "format", None) != "html":
        return
    logger = logging.getLogger(__name__)
    confdir = Path(app.confdir)
    static_dirs = [confdir / p for p in app.config.html_static_path]
    vendor = next((d / "vendor" for d in static_dirs if (d / "vendor" / "MANIFEST.json").is_file()), None)
    if vendor is None:
        raise ExtensionError(
            "vendored JavaScript not found (_static/vendor/MANIFEST.json): run "
            "`npm ci --ignore-scripts && python scripts/vendor_js.py` from the repository root first."
        )

    wanted = {"mathjax_path": [app.config.mathjax_path]}
    nb_js = getattr(app.config, "nb_ipywidgets_js", None)
    if nb_js is not None:
        wanted["nb_ipywidgets_js"] = list(nb_js)
    for key, urls in wanted.items():
        for url in urls:
            url = str(url)
            if "://" in url or url.startswith("//"):
                logger.warning(
                    "%s loads %s from the network; the offline book should use the vendored copy under _static/%s",
                    key,
                    url,
                    VENDOR_STATIC_PREFIX,
                    type="vendor_js",
                    subtype="cdn",
                )
            elif url.startswith(VENDOR_STATIC_PREFIX) and not (vendor / url[len(VENDOR_STATIC_PREFIX) :]).is_file():
                raise ExtensionError(
                    f"{key} points at _static/{url}, which scripts/vendor_js.py did not produce "
                    f"(see {vendor / 'MANIFEST.json'})"
                )


def setup(app):
    # Priority 900: run after Jupyter Book / other extensions have filled html_js_files.
    app.connect("config-inited", _drop_vendor_assets, priority=900)
    app.connect("builder-inited", _check_vendor_tree)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    sys.exit(main())

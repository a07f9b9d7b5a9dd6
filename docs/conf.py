# Sphinx configuration of robint's documentation site (`make docs`; see docs/build.py, which writes the sources)
project = 'robint'
author = 'robint developers'
copyright = '2026 onwards, robint developers'
extensions = ['myst_nb']
nb_execution_mode = 'off'             # notebooks are shown as they are; nbdev_proc_nbs already rendered show_doc
nb_render_markdown_format = 'myst'    # show_doc's signatures and docments tables are Markdown outputs
myst_enable_extensions = ['colon_fence', 'dollarmath']
myst_heading_anchors = 3             # the README's #section links work on the landing page too
suppress_warnings = ['myst.header', 'myst.xref_missing', 'misc.highlighting_failure', 'mystnb.unknown_mime_type', 'toc.not_included']
exclude_patterns = ['_build', '**.ipynb_checkpoints']
html_theme = 'furo'
html_title = 'robint'

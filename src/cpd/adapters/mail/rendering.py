"""Emails rendered from Jinja2 templates shipped in the package (``email_templates/``).

Each message is a pair: ``<name>.txt.j2`` (blocks ``subject``, ``summary`` and the plain
text body) and ``<name>.html.j2`` (the HTML body, inside the shared ``_layout.html.j2``).
HTML is autoescaped; undefined fields raise, so a template and its caller cannot drift apart
silently (the tests render every template).
"""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    UndefinedError,
    select_autoescape,
)

from cpd.domain.messaging import RenderedEmail


class MissingTemplateField(LookupError):
    """A template used a field its context did not provide."""


class JinjaEmailRenderer:
    def __init__(self) -> None:
        # Built once: Jinja compiles each template on first use and caches it.
        self._env = Environment(
            loader=PackageLoader("cpd.adapters.mail", "email_templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )

    def templates(self) -> list[str]:
        """The names of every message (not the layouts)."""
        names = self._env.list_templates(filter_func=lambda n: n.endswith(".txt.j2"))
        return sorted(n.removesuffix(".txt.j2") for n in names if not n.startswith("_"))

    def render(self, template: str, context: Mapping[str, object]) -> RenderedEmail:
        text_template = self._env.get_template(f"{template}.txt.j2")
        html_template = self._env.get_template(f"{template}.html.j2")
        values = dict(context)
        try:
            subject = " ".join(_block(text_template, "subject", values).split())
            summary = " ".join(_block(text_template, "summary", values).split())
            text = text_template.render(values)
            html = html_template.render(values | {"subject": subject})
        except UndefinedError as error:
            raise MissingTemplateField(f"{template}: {error.message}") from error
        return RenderedEmail(subject=subject, summary=summary, text=text, html=html)


def _block(template: Template, name: str, values: dict[str, object]) -> str:
    render = template.blocks.get(name)
    if render is None:
        raise MissingTemplateField(f"{template.name} has no '{name}' block")
    return "".join(render(template.new_context(values)))

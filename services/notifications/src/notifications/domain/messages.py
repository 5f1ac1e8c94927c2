"""Messages in Russian from Jinja2 templates: one place to change the wording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mentornet_events.labels_ru import label


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str


_ENV = Environment(
    loader=PackageLoader("notifications", "templates"),
    autoescape=select_autoescape(default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    keep_trailing_newline=False,
)
_ENV.globals["label"] = label


def render(template: str, **context: Any) -> Message:
    compiled = _ENV.get_template(f"{template}.j2")
    blocks = compiled.blocks
    ctx = compiled.new_context(context)
    subject = "".join(blocks["subject"](ctx)).strip()
    body = "".join(blocks["body"](ctx)).strip()
    return Message(subject, body)

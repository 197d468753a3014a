"""Renders an issue as plain text."""

from .slugs import slugify


def render_issue(title: str, sections: list[tuple[str, str]]) -> str:
    # TODO: use title_case for headings and word_wrap for bodies once they exist
    lines = [title, "=" * len(title), f"(/{slugify(title)})", ""]
    for heading, body in sections:
        lines += [heading, "-" * len(heading), body, ""]
    # TODO: add the unsubscribe footer
    return "\n".join(lines)

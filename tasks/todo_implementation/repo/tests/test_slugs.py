from textkit.slugs import slugify


def test_slugify():
    assert slugify("Hello, World: Issue #12") == "hello-world-issue-12"
    assert slugify("!!!") == "untitled"

"""The search endpoint's logic: filter, sort, paginate."""

from utils.pagination import page_links, paginate

DOCUMENTS = [{"id": n, "title": f"Release notes {n}", "score": (n * 37) % 100} for n in range(1, 58)]


def search(query: str, page: int = 1, per_page: int = 10) -> dict:
    hits = [d for d in DOCUMENTS if query.lower() in d["title"].lower()]
    hits.sort(key=lambda d: (-d["score"], d["id"]))
    result = paginate(hits, page, per_page)
    return {
        "results": [d["id"] for d in result.items],
        "page": result.page,
        "total_pages": result.total_pages,
        "pager": page_links(result.page, result.total_pages),
    }

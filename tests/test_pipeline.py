"""End to end through the CLI: config -> feeds over real HTTP -> SQLite -> console alerts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.demo.server import FeedServer, Route
from tests.conftest import CliResult, config_for, write_config
from tests.feedgen import Item, atom, jsonfeed, rdf, rss2

Cli = Callable[..., CliResult]

FSD = "Tesla wins approval for Full Self-Driving in China"
FSD_ZH = "特斯拉FSD有望在中国获批"
DATA = "Beijing grants data export approval to carmakers"
OTHER = "Apple opens a new store in Paris"
# Other stories matching the same watches (the same story twice would be one alert).
FSD_RDF = "Tesla recalls 1,000 FSD cars in China over a camera fault (RDF)"
DATA_JSON = "Data export approval granted to 3 Shanghai AI firms (JSON)"


def _two(prefix: str, hit: str) -> list[Item]:
    return [
        Item(hit, f"https://{prefix}.example/hit", "Regulators said so.", guid=f"{prefix}-1"),
        Item(OTHER, f"https://{prefix}.example/other", "Nothing to see.", guid=f"{prefix}-2"),
    ]


def _serve_all_formats(server: FeedServer) -> list[tuple[str, str | None]]:
    server.set("/rss2", Route(rss2(_two("rss", FSD))))
    server.set("/atom", Route(atom(_two("atom", DATA)), content_type="application/atom+xml"))
    server.set("/rdf", Route(rdf(_two("rdf", FSD_RDF)), content_type="application/rdf+xml"))
    server.set("/json", Route(jsonfeed(_two("json", DATA_JSON)), "application/feed+json"))
    gb = rss2(_two("gb", FSD_ZH), title="中文测试", encoding="gb2312")
    server.set("/gb2312", Route(gb, content_type="application/rss+xml"))
    return [(server.url(p), None) for p in ("/rss2", "/atom", "/rdf", "/json", "/gb2312")]


def test_once_alerts_the_right_items_in_every_format(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    feeds = _serve_all_formats(feed_server)
    config = write_config(tmp_path / "c.toml", db=tmp_path / "n.db", feeds=feeds)

    result = cli("once", "--config", str(config))

    assert result.code == 0, result.err
    for title in (FSD, DATA, FSD_RDF, DATA_JSON, FSD_ZH):
        assert title in result.out
    assert OTHER not in result.out
    assert "中文测试" in result.out  # the GB2312 feed's own title, decoded
    alerts = cli("alerts", "--config", str(config), "--json").json_lines()
    assert sorted(a["title"] for a in alerts) == sorted([FSD, DATA, FSD_RDF, DATA_JSON, FSD_ZH])
    by_title = {a["title"]: a for a in alerts}
    assert by_title[FSD_ZH]["watches"] == ["Tesla FSD in China"]
    assert by_title[DATA]["watches"] == ["Data exports"]
    for alert in alerts:
        assert set(alert) >= {"watches", "title", "url", "feed", "published_at", "sent_at"}
        assert alert["published_at"] and alert["sent_at"]


def test_repolls_alert_only_for_really_new_items(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    first = Item(FSD, "https://a.example/1", guid="g-1")
    feed_server.set("/f", Route(rss2([first])))
    config = write_config(
        tmp_path / "c.toml", db=tmp_path / "n.db", feeds=[(feed_server.url("/f"), "Wire")]
    )
    assert FSD in cli("once", "--config", str(config)).out

    again = cli("once", "--config", str(config))  # 304 this time
    assert again.code == 0 and FSD not in again.out

    edited = Item(FSD + " (updated)", "https://a.example/1", guid="g-1")
    feed_server.set("/f", Route(rss2([edited])))
    assert "updated" not in cli("once", "--config", str(config)).out

    new = Item("Beijing clears Tesla FSD road tests in China", "https://a.example/2", guid="g-2")
    feed_server.set("/f", Route(rss2([new, edited])))
    result = cli("once", "--config", str(config))
    assert result.out.count("Beijing clears Tesla FSD") == 1
    assert len(cli("alerts", "--config", str(config), "--json").json_lines()) == 2


def test_a_relisted_popular_item_with_a_new_date_is_not_news(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    """Feeds re-list old "most read" items with fresh dates; identity, never the date,
    decides what is new, even after the item had dropped out of the feed."""
    popular = Item(FSD, "https://a.example/popular", guid="p-1", age=timedelta(hours=2))
    feed_server.set("/f", Route(rss2([popular])))
    config = config_for(tmp_path, feed_server.url("/f"))
    assert FSD in cli("once", "--config", str(config)).out

    other = Item(DATA, "https://a.example/2", guid="p-2")
    feed_server.set("/f", Route(rss2([other])))  # it dropped out
    assert DATA in cli("once", "--config", str(config)).out
    back = Item(FSD, "https://a.example/popular", guid="p-1", age=timedelta(minutes=1))
    feed_server.set("/f", Route(rss2([back, other])))  # and is back on top, re-dated
    result = cli("once", "--config", str(config))
    assert result.code == 0 and FSD not in result.out
    assert len(cli("alerts", "--config", str(config), "--json").json_lines()) == 2


def test_conditional_get_and_304_parses_nothing(
    cli: Cli, feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchers.poll

    parses: list[bytes] = []
    real_parse = watchers.poll.parse_feed

    def counting_parse(content: bytes, **kwargs: object) -> object:
        parses.append(content)
        return real_parse(content, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(watchers.poll, "parse_feed", counting_parse)
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    config = config_for(tmp_path, feed_server.url("/f"))

    cli("once", "--config", str(config))
    cli("once", "--config", str(config))

    first, second = feed_server.requests_for("/f")
    assert "If-None-Match" not in first.headers and "If-Modified-Since" not in first.headers
    assert second.headers["If-None-Match"].startswith('"')
    assert second.headers["If-Modified-Since"].endswith("GMT")
    assert "newshound" in second.headers["User-Agent"]
    assert second.status == 304
    assert len(parses) == 1  # the 304 cost no parse
    assert "not_modified" in cli("feeds", "--config", str(config)).out


def test_failing_feeds_are_recorded_and_never_stop_the_others(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/good", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    feed_server.set("/500", Route(b"oops", status=500, content_type="text/plain"))
    feed_server.set("/html", Route(b"<!DOCTYPE html><html><body>Moved</body></html>", "text/html"))
    feed_server.set("/slow", Route(rss2([]), delay=5.0))
    feeds = [(feed_server.url(p), p.strip("/")) for p in ("/500", "/html", "/slow", "/good")]
    config = write_config(
        tmp_path / "c.toml",
        db=tmp_path / "n.db",
        feeds=feeds,
        extra='[polling]\ntimeout = "1s"',
    )

    result = cli("once", "--config", str(config))

    assert result.code == 0
    assert FSD in result.out
    assert "HTTP 500" in result.err
    table = cli("feeds", "--config", str(config)).out
    rows = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert "HTTP 500" in rows["500"] and "error" in rows["500"]
    assert "not a feed: the server returned an HTML page" in rows["html"]
    assert "timed out after 1s" in rows["slow"]
    assert "ok" in rows["good"]
    db = sqlite3.connect(tmp_path / "n.db")
    failures = dict(db.execute("select name, consecutive_failures from feeds"))
    assert failures == {"500": 1, "html": 1, "slow": 1, "good": 0}


def test_a_new_feed_does_not_flood_but_later_items_always_alert(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    old = Item("Tesla FSD China approval: last week's story", "https://a.example/old",
               guid="old", age=timedelta(days=3))  # fmt: skip
    undated = Item("Tesla FSD China: undated story", "https://a.example/u", guid="u", no_date=True)
    fresh = Item(FSD, "https://a.example/new", guid="new", age=timedelta(hours=2))
    feed_server.set("/f", Route(rss2([fresh, old, undated])))
    config = config_for(tmp_path, feed_server.url("/f"))

    first = cli("once", "--config", str(config))
    assert FSD in first.out
    assert "last week" not in first.out and "undated" not in first.out
    db = sqlite3.connect(tmp_path / "n.db")
    assert db.execute("select count(*) from items").fetchone() == (3,)
    assert db.execute("select count(*) from matches").fetchone() == (3,)  # stored and matched

    # After the first poll identity alone decides: a re-listed old story is news to us.
    relisted = Item("Tesla FSD China: an archive piece", "https://a.example/arch",
                    guid="arch", age=timedelta(days=30))  # fmt: skip
    feed_server.set("/f", Route(rss2([relisted, fresh, old, undated])))
    assert "an archive piece" in cli("once", "--config", str(config)).out


def test_feeds_dropped_from_config_keep_their_data(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/a", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    feed_server.set("/b", Route(rss2([Item(DATA, "https://b.example/1", guid="g-1")])))
    db = tmp_path / "n.db"
    both = [(feed_server.url("/a"), "A"), (feed_server.url("/b"), "B")]
    cli("once", "--config", str(write_config(tmp_path / "c.toml", db=db, feeds=both)))

    only_a = write_config(tmp_path / "c2.toml", db=db, feeds=both[:1])
    cli("once", "--config", str(only_a))

    assert len(feed_server.requests_for("/b")) == 1  # not polled once dropped
    assert len(cli("alerts", "--config", str(only_a), "--json").json_lines()) == 2
    assert "B (not in config)" in cli("feeds", "--config", str(only_a)).out


def test_one_alert_per_story_when_outlets_share_the_article(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    """The same article (canonical URL) in two feeds: both stored, one alert."""
    article = "https://www.news.example/2026/tesla-fsd-china"
    feed_server.set("/a", Route(rss2([Item(FSD, article, guid="a-1")], title="Outlet A")))
    syndicated = Item(FSD + " (syndicated)", article + "?utm_source=rss#top", guid="b-9")
    feed_server.set("/b", Route(rss2([syndicated], title="Outlet B")))
    config = config_for(tmp_path, feed_server.url("/a"), feed_server.url("/b"))

    result = cli("once", "--config", str(config))

    assert result.out.count("▶ ") == 1
    [alert] = cli("alerts", "--config", str(config), "--json").json_lines()
    other = "Outlet B" if alert["feed"] == "Outlet A" else "Outlet A"
    assert [a["feed"] for a in alert["also"]] == [other]  # type: ignore[index]
    db = sqlite3.connect(tmp_path / "n.db")
    assert db.execute("select count(*) from items").fetchone() == (2,)
    first_item = db.execute("select min(id) from items").fetchone()[0]
    assert alert["story"] == first_item  # a story's id is its first item's
    assert db.execute("select distinct story_id from items").fetchall() == [(first_item,)]


def test_a_link_shared_by_a_whole_feed_is_not_one_story(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    """A news page that links every post to itself: each post is its own story."""
    page = "https://project.example/news.html"
    posts = [Item(f"{FSD}: part {i}", page, f"Post {i}.") for i in range(3)]
    feed_server.set("/f", Route(rss2(posts)))
    result = cli("once", "--config", str(config_for(tmp_path, feed_server.url("/f"))))
    assert result.out.count("▶ ") == 3


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (("http://site.example/a/1", "http://site.example/a/1"),
         ("https://site.example/a/1", "https://site.example/a/1")),  # guid and link to https
        (("tag:site,2026:tesla-fsd", "https://site.example/a/1"),
         ("tag:site,2026:tesla-fsd-china-approval", "https://site.example/a/1")),  # slug edit
    ],
)  # fmt: skip
def test_a_feed_changing_an_items_guid_does_not_alert_again(
    cli: Cli,
    feed_server: FeedServer,
    tmp_path: Path,
    before: tuple[str, str],
    after: tuple[str, str],
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, before[1], guid=before[0])])))
    config = config_for(tmp_path, feed_server.url("/f"))
    assert FSD in cli("once", "--config", str(config)).out
    feed_server.set("/f", Route(rss2([Item(FSD + " (updated)", after[1], guid=after[0])])))
    assert "updated" not in cli("once", "--config", str(config)).out
    db = sqlite3.connect(tmp_path / "n.db")
    assert db.execute("select count(*) from items").fetchone() == (1,)

"""Benchmark: feedparser alone vs the whole per-feed pipeline, plus an all-304 pass.

Run from the repository root::

    python -m bench.pipeline                      # 40 feeds x 50 items, 3 timed rounds
    python -m bench.pipeline --feeds 80 --repeat 5
    python -m bench.pipeline --profile            # also cProfile the in-process pipeline

Every round uses freshly generated feeds (new guids and links), so the store
really inserts on every round. Per round, in this order:

1. feedparser alone, with the options ``watchers.parse`` uses (the baseline);
2. feedparser alone, with its defaults (sanitising, relative-URI resolution);
3. the pipeline in process, without HTTP: parse_feed -> identify ->
   unknown_keys -> Watchlist.match -> save_poll, into its own SQLite file;
4. the pipeline through the real code path: ``App.poll_all(force=True)``
   (claim -> fetch over HTTP from a :class:`FeedServer` on 127.0.0.1 ->
   parse -> identify -> unknown_keys -> match -> save_poll), into another
   SQLite file;
5. ``App.poll_all(force=True)`` again: every feed answers 304.

The table goes to stdout, progress to stderr. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser

from bot.app import App
from bot.config import parse_config
from bot.demo.server import FeedServer, Route
from bot.notify import CONSOLE
from storage import feeds as feed_queries
from storage import items as item_queries
from storage.db import Database, open_database
from storage.records import (
    AlertRecord,
    FeedSpec,
    FeedState,
    FeedUpdate,
    PollRecord,
)
from watchers.identity import identify
from watchers.match import Watchlist
from watchers.parse import parse_feed
from watchers.poll import PollOutcome, match_items
from watchers.schedule import next_poll_at

TARGET = 0.80  # the pipeline should run at >= 80% of feedparser's own rate
CONTENT_TYPE = "application/rss+xml; charset=utf-8"
INTERVAL = timedelta(minutes=15)

# --------------------------------------------------------------------------- watches

WATCHES: dict[str, str] = {
    "Tesla FSD in China": (
        '(tesla OR 特斯拉 OR TSLA) AND (FSD OR "full self-driving" OR 完全自动驾驶) '
        "AND (china OR 中国 OR beijing OR 北京)"
    ),
    "China data-export approvals": (
        '("data export" OR "cross-border data" OR 数据出境) '
        "AND (approval OR approved OR approves OR 批准 OR 通过) -GDPR"
    ),
    "Nvidia export controls": (
        '(nvidia OR 英伟达) AND ("export controls" OR "export curbs" OR 出口管制)'
    ),
    "BYD in Europe": "(BYD OR 比亚迪) AND (europe OR EU OR hungary OR 欧洲 OR 匈牙利)",
    "EV tariffs": '("electric vehicle" OR "electric vehicles" OR EV OR EVs OR 电动汽车) '
    "AND (tariff OR tariffs OR 关税)",
    "TSMC overseas fabs": "(TSMC OR 台积电) AND (arizona OR japan OR germany OR 亚利桑那 OR 日本)",
    "Huawei chips": "(huawei OR 华为) AND (chip OR chips OR semiconductor OR 芯片 OR 麒麟)",
    "iPhone in China": (
        "(iphone OR apple OR 苹果) AND (china OR 中国) AND (sales OR shipments OR 销量)"
    ),
    "PBOC rates": '("people\'s bank of china" OR PBOC OR 中国人民银行 OR 央行) '
    'AND ("rate cut" OR "loan prime rate" OR LPR OR 降息 OR 降准)',
    "Big-tech antitrust": '(antitrust OR "anti-monopoly" OR 反垄断) '
    "AND (alibaba OR tencent OR meituan OR google OR 阿里巴巴 OR 腾讯 OR 美团)",
    "Lithium prices": "(lithium OR 碳酸锂) AND (price OR prices OR 价格)",
    "Robotaxis": '(robotaxi OR robotaxis OR "driverless taxi" OR 萝卜快跑 OR 无人驾驶出租车)',
    "TikTok sale": "(tiktok OR bytedance OR 字节跳动) AND (divestiture OR sale OR ban OR 出售)",
    "OpenAI funding": "openai AND (funding OR valuation OR investors)",
    "Rare-earth exports": '("rare earth" OR "rare earths" OR 稀土) AND (export OR exports OR 出口)',
    "CATL batteries": "(CATL OR 宁德时代) AND (battery OR batteries OR plant OR 电池 OR 工厂)",
    "Xiaomi cars": '(xiaomi OR 小米) AND (SU7 OR YU7 OR "electric car" OR 汽车)',
    "Boeing 737 MAX": 'boeing AND ("737 max" OR FAA)',
    "Chips Act money": '("chips act" OR 芯片法案) AND (subsidy OR subsidies OR grant OR 补贴)',
    "Property developers' debt": '(evergrande OR "country garden" OR 恒大 OR 碧桂园) '
    "AND (liquidation OR restructuring OR 清盘 OR 债务重组)",
    "Nio battery swap": '(nio OR 蔚来) AND ("battery swap" OR "battery-swap" OR 换电)',
    "ASML and China": "(ASML OR 阿斯麦) AND (china OR 中国) AND (licence OR license OR 许可证)",
    "Tesla price cuts": '(tesla OR 特斯拉) AND ("price cut" OR "price cuts" OR 降价)',
    "Baidu Ernie": '(baidu OR 百度) AND (ernie OR 文心 OR "large language model" OR 大模型)',
    "DeepSeek": "deepseek OR 深度求索",
    "Personal-data fines": '("personal information" OR "personal data" OR 个人信息) '
    "AND (fine OR fined OR penalty OR 罚款) -GDPR",
    "Solar overcapacity": "(solar OR photovoltaic OR 光伏) AND "
    '(overcapacity OR "price war" OR 产能过剩 OR 价格战)',
    "Microsoft Copilot": "(microsoft OR 微软) AND copilot",
    "Weak yuan": "(yuan OR renminbi OR 人民币) AND (weakest OR slide OR slump OR 贬值)",
    "DJI sanctions": "(DJI OR 大疆) AND (sanctions OR ban OR 制裁)",
    "Shein and Temu listings": "(shein OR temu OR 希音) AND (IPO OR listing OR 上市)",
    "Hong Kong mega IPOs": '("hong kong" OR 香港) AND (IPO OR 上市) AND (billion OR 亿港元)',
    "Self-driving permits": '("autonomous driving" OR "self-driving" OR 自动驾驶) '
    "AND (permit OR licence OR 牌照) -tesla",
    "Cybersecurity reviews": '("cybersecurity review" OR 网络安全审查)',
    "Nexperia": "nexperia OR 安世半导体",
    "Airbus orders from China": (
        "(airbus OR 空客) AND (china OR 中国) AND (order OR orders OR 订单)"
    ),
}

# ------------------------------------------------------------------------ word lists


@dataclass(frozen=True, slots=True)
class Topic:
    """The vocabulary of one kind of story; an item keeps to its topic's words."""

    weight: float
    business: bool  # market sentences (shares, analysts) fit it
    orgs: tuple[str, ...]
    objects: tuple[str, ...]
    places: tuple[str, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split("|") if word.strip())


def _topic(weight: float, business: bool, orgs: str, objects: str, places: str = "") -> Topic:
    return Topic(weight, business, _words(orgs), _words(objects), _words(places))


# About one English item in six is about a company or policy some watch follows;
# the rest is the ordinary news day (sport, weather, politics, science, culture).
_EN_TOPICS = (
    _topic(
        0.5, True,
        "Tesla|BYD|Nio|Xpeng|Li Auto|Volkswagen|Toyota|Geely|Xiaomi",
        "its Full Self-Driving software|a cheaper compact model|battery swap stations|"
        "a new electric vehicle plant|price cuts across its line-up|"
        "new tariffs on electric vehicles|a solid-state battery programme|robotaxi trials|"
        "driver-assistance features",
        "China|Europe|Germany|Hungary|Shanghai|Texas|Mexico|Thailand",
    ),
    _topic(
        0.35, True,
        "Nvidia|TSMC|ASML|SMIC|Huawei|Intel|Samsung|Nexperia",
        "new export controls on advanced chips|a second fab|Chips Act subsidies|"
        "its latest AI accelerator|2-nanometre production|a licence to ship lithography tools|"
        "a supply deal for memory chips",
        "Arizona|Taiwan|the Netherlands|China|South Korea|Japan|Washington",
    ),
    _topic(
        0.25, True,
        "the Cyberspace Administration|the European Commission|Didi|ByteDance|Alibaba|Tencent|"
        "Meituan|Ant Group",
        "cross-border data rules|a data export security assessment|"
        "personal information protections|an antitrust probe|a cybersecurity review|"
        "GDPR fines|new rules for recommendation algorithms",
        "China|Brussels|Beijing|Dublin|Hong Kong|Singapore",
    ),
    _topic(
        0.3, True,
        "OpenAI|Microsoft|Baidu|DeepSeek|Google|Meta|Alibaba Cloud|Zhipu",
        "a new large language model|a funding round at a higher valuation|"
        "its Copilot assistant|the Ernie chatbot|open-weight models|"
        "a fleet of AI data centres|cheaper access to its API",
        "San Francisco|Beijing|Hangzhou|London|Seattle|Paris",
    ),
    _topic(
        0.3, True,
        "the People's Bank of China|the Federal Reserve|the European Central Bank|"
        "the Bank of England|Evergrande|Country Garden|HSBC|UBS",
        "an interest rate cut|the loan prime rate|a debt restructuring plan|"
        "a liquidation petition|the yuan's slide|rising bond yields|a bank capital top-up",
        "China|Hong Kong|Frankfurt|London|New York|Zurich",
    ),
    _topic(
        0.25, True,
        "the commerce ministry|CATL|Albemarle|Ganfeng Lithium|LONGi|Rio Tinto",
        "rare earth export licences|lithium prices|overcapacity in solar panels|"
        "a price war in photovoltaics|a battery plant|iron ore shipments",
        "China|Australia|Chile|Spain|Indonesia|Jiangxi",
    ),
    _topic(
        0.2, True,
        "Boeing|Airbus|COMAC|the FAA|China Eastern|Ryanair",
        "737 MAX deliveries|a large order for A320neo jets|C919 certification|"
        "engine inspections|a new production line",
        "China|Toulouse|Seattle|Tianjin|Dublin",
    ),
    _topic(
        0.25, True,
        "Shein|Temu|Pinduoduo|JD.com|Apple|DJI|TikTok|Pop Mart",
        "a Hong Kong IPO|iPhone sales|smartphone shipments|a London listing|"
        "new sanctions on drone makers|the sale of its US business|cross-border parcel rules",
        "China|Hong Kong|the US|London|Singapore|Shenzhen",
    ),
    _topic(
        1.4, True,
        "Unilever|Rolls-Royce|Tesco|BHP|Siemens|Nestlé|Shell|Barclays|AT&amp;T",
        "a profit warning|job cuts|a share buyback|quarterly results|a new chief executive|"
        "a takeover approach|higher dividends",
        "London|Frankfurt|Zurich|Sydney|New York|Paris",
    ),
    _topic(
        2.4, False,
        "Manchester City|Real Madrid|the All Blacks|the Golden State Warriors|"
        "the England cricket team|Inter Miami|Ferrari",
        "a late equaliser|the semi-final|a new head coach|the transfer window|"
        "a hamstring injury|a record attendance",
        "London|Madrid|Melbourne|Paris|Auckland|Monaco|Manchester",
    ),
    _topic(
        1.8, False,
        "the Met Office|forecasters|emergency services|the fire service|"
        "the national weather agency",
        "an amber storm warning|record rainfall|wildfire evacuations|a heatwave|"
        "flood defences|power cuts",
        "Scotland|California|Valencia|Queensland|Bavaria|Ontario",
    ),
    _topic(
        2.4, False,
        "the prime minister|the opposition|the city council|the health secretary|parliament|"
        "the mayor|the transport minister",
        "a budget vote|housing reforms|a cabinet reshuffle|school funding|rail strikes|"
        "a new bypass|hospital waiting lists",
        "Westminster|Canberra|Ottawa|Berlin|Dublin|Wellington|Leeds",
    ),
    _topic(
        1.6, False,
        "the World Health Organization|researchers at Oxford|NASA|the European Space Agency|"
        "a team in Cambridge|the NHS",
        "a measles outbreak|a malaria vaccine|a lunar lander|a clinical trial|"
        "a new exoplanet|antibiotic resistance",
        "Geneva|Oxford|Florida|Kourou|Nairobi|Cambridge",
    ),
    _topic(
        1.4, False,
        "the British Museum|Netflix|the Booker Prize jury|the Louvre|a West End theatre|the BBC",
        "a new exhibition|the shortlist|a record-breaking tour|streaming prices|"
        "a long-lost painting|a revival of a classic",
        "London|Paris|Edinburgh|New York|Venice|Berlin",
    ),
)  # fmt: skip

_EN = {
    "verb": _words(
        "wins approval for|delays|expands|faces scrutiny over|unveils|scales back|"
        "pushes ahead with|seeks approval for|is criticised over|announces|warns about|"
        "doubles down on|reviews"
    ),
    "trend": _words("cools|slows|picks up|rebounds|stalls|surges"),
    "outcome": _words("tougher competition|a slower recovery|more cuts|a rebound next year"),
    "move": _words("rose|fell|jumped|slid|climbed|dropped"),
    "weekday": _words("Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"),
    "source": _words(
        "people familiar with the matter|a filing seen by reporters|local media|two officials|"
        "a statement"
    ),
    "person": _words("Sarah Chen|James Okafor|Maria Rossi|David Wong|Priya Nair|Tom Evans"),
    "role": _words("an analyst|head of research|a strategist|a portfolio manager"),
    "bank": _words("Morgan Stanley|Nomura|Jefferies|Bernstein|Citi|Macquarie"),
    "period": _words("the end of the year|next spring|the second half|2027|the summer"),
    "index": _words("S&amp;P 500|Hang Seng|FTSE 100|Nikkei 225|CSI 300|DAX"),
    "quote": _words(
        "We are confident about the long-term picture|There is no timetable yet|"
        "The rules are becoming clearer|It is too early to say what this means|"
        "We will keep talking to everyone involved"
    ),
    "filler": _words(
        "The details were not disclosed.|Officials declined to comment further.|"
        "The figures have not been independently verified.|"
        "A decision is expected within weeks.|Critics say the plan does not go far enough.|"
        "The announcement came late in the day.|More details are expected next week."
    ),
    "nth": _words("second|third|fourth|first"),
}
_EN_TITLES = _words(
    "{Org} {verb} {obj} in {place}|"
    "{place}: {org} {verb} {obj} after weeks of talks|"
    "{Org} {verb} {obj}, raising hopes of {outcome}|"
    "{Org} {verb} {obj} in {place} as {org2} {verb2} {obj2}|"
    "Explainer: what {obj} in {place} means for {org}"
)
_EN_BUSINESS_TITLES = _words(
    "{Org} {verb} {obj} as {place} demand {trend}|"
    "{Org} shares {move} {pct}% after news on {obj}|"
    "{Org} {verb} {obj}; analysts at {bank} see {outcome}"
)
_EN_SENTENCES = _words(
    "{Org} said on {weekday} that it {verb} {obj}, according to {source}.|"
    "The move comes as {org2} {verb2} {obj2} in {place}.|"
    "&#8220;{quote},&#8221; {person} told reporters in {place}.|"
    "{filler}|"
    "It is the {nth} time this year that {org} {verb} {obj}.|"
    "People in {place} have followed the story closely since {weekday}.|"
    "{Org2} is expected to respond by {period}, {source} said.|"
    "{person} said it was &#8220;a turning point&#8221; for {place}."
)
_EN_BUSINESS_SENTENCES = _words(
    "Shares of {org} {move} {pct}% in {place} trading, while the {index} {move2} {pct2}%.|"
    "{person}, {role} at {bank}, said {org} could see {outcome} by {period}.|"
    "Analysts at {bank} said {obj} would weigh on margins &mdash; at least until {period}."
)

# Chinese outlets: short headlines (20-40 characters), the same mix of topics.
_ZH_TOPICS = (
    _topic(
        0.5, True,
        "特斯拉|比亚迪|蔚来|小鹏汽车|理想汽车|小米|吉利",
        "完全自动驾驶功能|新款紧凑型车|换电站|海外工厂|全系降价|电动汽车关税|固态电池",
    ),
    _topic(
        0.35, True,
        "英伟达|台积电|华为|中芯国际|阿斯麦|安世半导体",
        "芯片出口管制|新晶圆厂|芯片法案补贴|麒麟芯片|先进制程|光刻机许可证",
    ),
    _topic(
        0.3, True,
        "国家网信办|滴滴|字节跳动|阿里巴巴|腾讯|美团",
        "数据出境安全评估|个人信息保护规定|反垄断调查|网络安全审查|算法推荐新规",
    ),
    _topic(
        0.4, True,
        "中国人民银行|恒大|碧桂园|商务部|宁德时代|深度求索|百度",
        "降准措施|贷款市场报价利率|债务重组方案|稀土出口管制|碳酸锂价格|大模型|文心大模型",
    ),
    _topic(
        1.2, True,
        "贵州茅台|中国平安|招商银行|海尔智家|中国移动|京东方",
        "三季度业绩|回购计划|分红方案|管理层调整|新产能|海外并购",
    ),
    _topic(
        2.2, False,
        "国家气象局|北京市政府|中国女排|故宫博物院|教育部|上海博物馆|铁路部门",
        "暴雨预警|秋季招生计划|新展览|决赛|旅游高峰|地铁新线路|文物修复",
    ),
    _topic(
        1.6, False,
        "中国科学院|国家航天局|深圳市|杭州亚运场馆|国家统计局|海关总署",
        "月球探测任务|城市更新计划|消费数据|外贸数据|赛后利用方案|人口普查结果",
    ),
)  # fmt: skip

_ZH = {
    "place": _words("中国|北京|上海|深圳|欧洲|美国|香港|德国|杭州|广州"),
    "verb": _words("宣布|获批|推迟|扩大|启动|暂停|回应|加快推进|调整"),
    "trend": _words("持续升温|明显放缓|有所回暖|竞争加剧|波动加大"),
    "move": _words("上涨|下跌|大涨|收跌"),
    "source": _words("新华社|财新|第一财经|21世纪经济报道|澎湃新闻|界面新闻"),
    "time": _words("周一|周二|本周三|周四晚间|周五|今日早间|昨日"),
    "period": _words("明年上半年|年底前|未来三年|第四季度|下个月"),
    "effect": _words("深远的|有限的|积极的|不小的"),
    "clause": _words("此举引发广泛关注|相关细节尚未公布|有关方面暂未回应置评请求|各方对此看法不一"),
    "quote": _words("我们对长期前景充满信心|目前还没有具体的时间表|相关规则正在变得更加清晰"),
    "person": _words("张伟|李娜|王芳|刘洋|陈静|赵磊"),
    "role": _words("专家|相关负责人|研究员|业内人士"),
}
_ZH_TITLES = _words(
    "{place}：{org}{verb}{obj}，{clause}|"
    "{org}{time}{verb}{obj}，{place}各界{trend}|"
    "{org}{verb}{obj}，{role}：{clause}"
)
_ZH_BUSINESS_TITLES = _words(
    "{org}{verb}{obj}，{place}市场{trend}|{org}股价{move}{pct}%，{obj}引发关注"
)
_ZH_SENTENCES = _words(
    "据{source}报道，{org}{time}{verb}{obj}，{clause}。|"
    "{person}表示，{org}预计将在{period}{verb}{obj}。|"
    "“{quote}，”{role}{person}在接受采访时说。|"
    "与此同时，{org2}也{verb2}{obj2}，{clause}。|"
    "{org}相关负责人介绍，{obj}已进入实施阶段，公众可通过官方渠道查询详情。|"
    "据悉，{place}多地近期也在{verb}类似的{obj2}。"
)
_ZH_BUSINESS_SENTENCES = _words(
    "分析人士认为，{obj}将对{place}市场产生{effect}影响。|"
    "{org}股价{time}{move}{pct}%，成交额达{num}亿元。"
)

_OUTLETS = _words(
    "harbour-ledger|northgate-times|daily-meridian|copperline-news|eastbridge-wire|"
    "civic-record|lantern-post|westmarch-herald"
)
_ZH_OUTLETS = (
    ("huanan-caijing", "华南财经"),
    ("dongfang-kuaixun", "东方快讯"),
    ("jinghua-shibao", "京华时报"),
    ("haixia-ribao", "海峡日报"),
)
_SECTIONS = _words("business|world|technology|markets|uk|science|culture|sport")

# ------------------------------------------------------------------------ generation


@dataclass(frozen=True, slots=True)
class FeedDoc:
    """One generated feed document, as the server sends it."""

    path: str
    url: str
    body: bytes
    items: int


class Generator:
    """Seeded generator of realistic RSS 2.0 feeds; item guids and links never repeat."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self._serial = 100_000
        self.title_chars: list[int] = []
        self.summary_bytes: list[int] = []

    def feed(self, index: int, round_: int, url: str, path: str, items: int) -> FeedDoc:
        """Feed ``index`` as published in round ``round_``: ``items`` fresh items."""
        rng = self.rng
        chinese = index % 4 == 3  # one outlet in four is Chinese
        if chinese:
            outlet, name = _ZH_OUTLETS[index // 4 % len(_ZH_OUTLETS)]
            title, language = f"{name} · 要闻", "zh-cn"
        else:
            outlet = _OUTLETS[index % len(_OUTLETS)]
            section = _SECTIONS[index % len(_SECTIONS)]
            title, language = f"{outlet.replace('-', ' ').title()} — {section}", "en-gb"
        site = f"https://www.{outlet}.example"
        cdata = index % 3 != 2  # most feeds wrap their HTML in CDATA, the others escape it
        dates = sorted(
            (self.now - timedelta(seconds=rng.randint(60, 23 * 3600)) for _ in range(items)),
            reverse=True,
        )
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
            f"<title>{escape(title)}</title>\n<link>{site}/</link>\n"
            f"<description>{escape(title)}: latest stories (edition {round_ + 1})</description>\n"
            f"<language>{language}</language>\n"
            f"<lastBuildDate>{format_datetime(self.now, usegmt=True)}</lastBuildDate>\n"
            f'<atom:link href="{escape(url)}" rel="self" type="application/rss+xml"/>\n'
        ]
        parts += [self._item(site, outlet, chinese, cdata, published) for published in dates]
        parts.append("</channel>\n</rss>\n")
        return FeedDoc(path=path, url=url, body="".join(parts).encode("utf-8"), items=items)

    def _item(self, site: str, outlet: str, chinese: bool, cdata: bool, published: datetime) -> str:
        rng = self.rng
        self._serial += 1
        serial = self._serial
        title, summary, slug = self._zh_story(site) if chinese else self._en_story(site)
        section = rng.choice(_SECTIONS)
        link = f"{site}/{section}/{published:%Y/%m/%d}/{slug}-{serial}.html"
        if rng.random() < 0.5:
            link += f"?utm_source=rss&utm_medium=feed&utm_campaign={section}"
        self.title_chars.append(len(title))
        self.summary_bytes.append(len(summary.encode("utf-8")))
        body = f"<![CDATA[{summary}]]>" if cdata else escape(summary)
        author = rng.choice(_ZH["person"] if chinese else _EN["person"])
        return (
            f"<item>\n<title>{escape(title)}</title>\n<link>{escape(link)}</link>\n"
            f'<guid isPermaLink="false">{outlet}-{serial:08d}</guid>\n'
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>\n"
            f"<dc:creator>{escape(author)}</dc:creator>\n"
            f"<category>{section.title()}</category>\n"
            f"<description>{body}</description>\n</item>\n"
        )

    def _slots(self, topic: Topic, words: dict[str, tuple[str, ...]]) -> dict[str, str]:
        rng = self.rng
        slots = {name: rng.choice(choices) for name, choices in words.items()}
        org, org2 = rng.sample(topic.orgs, 2)
        obj, obj2 = rng.sample(topic.objects, 2)
        slots.update(org=org, org2=org2, Org=_capital(org), Org2=_capital(org2))
        slots.update(obj=obj, obj2=obj2, verb2=rng.choice(words["verb"]))
        slots.update(move2=rng.choice(words["move"]), num=str(rng.randint(3, 900)))
        slots.update(pct=f"{rng.uniform(0.2, 9.5):.1f}", pct2=f"{rng.uniform(0.1, 2.5):.1f}")
        if topic.places:
            slots["place"] = rng.choice(topic.places)
        return slots

    def _story(
        self, topics: Sequence[Topic], words: dict[str, tuple[str, ...]], kinds: Sequence[Any]
    ) -> tuple[Topic, dict[str, str], list[str], list[str]]:
        """A topic, its slots, and the title and sentence templates that fit it."""
        rng = self.rng
        topic = rng.choices(topics, weights=[t.weight for t in topics])[0]
        titles, business_titles, sentences, business_sentences = kinds
        title_pool = [*titles, *(business_titles if topic.business else ())]
        sentence_pool = [*sentences, *(business_sentences if topic.business else ())]
        return topic, self._slots(topic, words), title_pool, sentence_pool

    def _en_story(self, site: str) -> tuple[str, str, str]:
        rng = self.rng
        kinds = (_EN_TITLES, _EN_BUSINESS_TITLES, _EN_SENTENCES, _EN_BUSINESS_SENTENCES)
        topic, slots, titles, sentences = self._story(_EN_TOPICS, _EN, kinds)
        title = ""
        for _ in range(50):  # headlines of 60-100 characters
            candidate = _capital(rng.choice(titles).format(**slots).replace("&amp;", "&"))
            if 60 <= len(candidate) <= 100:
                title = candidate
                break
            slots = self._slots(topic, _EN)
        title = title or candidate[:96].rstrip() + " ..."
        slug = "-".join(
            "".join(c for c in word.lower() if c.isalnum()) for word in title.split()[:7]
        ).strip("-")
        body = [s.format(**slots) for s in rng.sample(sentences, len(sentences))]
        more = self._slots(topic, _EN)  # a second angle on the same topic
        body += [s.format(**more) for s in rng.sample(sentences, len(sentences))]
        return title, self._html(site, slots["Org"], body, slug), slug

    def _zh_story(self, site: str) -> tuple[str, str, str]:
        rng = self.rng
        kinds = (_ZH_TITLES, _ZH_BUSINESS_TITLES, _ZH_SENTENCES, _ZH_BUSINESS_SENTENCES)
        topic, slots, titles, sentences = self._story(_ZH_TOPICS, _ZH, kinds)
        title = rng.choice(titles).format(**slots)
        body = [s.format(**slots) for s in rng.sample(sentences, len(sentences))]
        for _ in range(2):
            more = self._slots(topic, _ZH)
            body += [s.format(**more) for s in rng.sample(sentences, len(sentences))]
        return title, self._html(site, slots["org"], body, "news"), "news"

    def _html(self, site: str, anchor: str, sentences: Sequence[str], slug: str) -> str:
        """Paragraphs of 2-3 sentences, one link, some inline markup: about 1 KB of HTML."""
        rng = self.rng
        target = rng.randint(800, 1000)  # the last paragraph overshoots
        out: list[str] = []
        if rng.random() < 0.4:
            out.append(f'<img src="{site}/img/{slug}.jpg" alt="" width="640" height="360"/>')
        size = sum(len(p.encode("utf-8")) for p in out)
        pending = list(sentences)
        linked = False
        while size < target and pending:
            para = pending[: rng.randint(2, 3)]
            del pending[: len(para)]
            if not linked:
                linked = True
                para[0] = f'<a href="{site}/topic/{rng.randint(1, 999)}">{anchor}</a>: {para[0]}'
            elif rng.random() < 0.3:
                para[-1] = f"<em>{para[-1]}</em>"
            text = f"<p>{' '.join(para)}</p>"
            out.append(text)
            size += len(text.encode("utf-8"))
        return "".join(out)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------ the stages


@dataclass
class Totals:
    """Items and seconds summed over the timed rounds of one stage."""

    items: int = 0
    seconds: float = 0.0
    per_round: list[float] = field(default_factory=list)

    def add(self, items: int, seconds: float) -> None:
        self.items += items
        self.seconds += seconds
        self.per_round.append(items / seconds if seconds else 0.0)

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


class CountingNotifier:
    """A notifier that only counts (the benchmark never delivers, but App wants one)."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, alert: AlertRecord) -> str | None:
        self.sent += 1
        return None


def feedparser_alone(docs: Sequence[FeedDoc], *, pipeline_options: bool) -> int:
    """feedparser on each document; the same headers parse_feed passes. Returns entries."""
    options: dict[str, Any] = (
        {"sanitize_html": False, "resolve_relative_uris": False} if pipeline_options else {}
    )
    entries = 0
    for doc in docs:
        headers = {"content-location": doc.url, "content-type": CONTENT_TYPE}
        parsed = feedparser.parse(io.BytesIO(doc.body), response_headers=headers, **options)
        entries += len(parsed.entries)
    return entries


STAGES = ("parse_feed", "identify", "unknown_keys", "match", "save_poll")


class DirectPipeline:
    """The stages of watchers.poll.poll_feed called in process, without HTTP or threads."""

    def __init__(self, db: Database, watchlist: Watchlist, states: Sequence[FeedState]) -> None:
        self.db = db
        self.watchlist = watchlist
        self.states = {s.url: s for s in states}
        self.stage_seconds = dict.fromkeys(STAGES, 0.0)
        self.matched_items = 0
        self.items = 0

    @staticmethod
    def route(watches: Sequence[str]) -> tuple[str, ...]:
        return (CONSOLE,) if watches else ()  # as App._route

    def poll(self, doc: FeedDoc, now: datetime) -> int:
        """One feed through every stage; returns the items the store really inserted."""
        clock = time.perf_counter
        state = self.states[doc.url]
        t0 = clock()
        parsed = parse_feed(doc.body, content_type=CONTENT_TYPE, url=doc.url)
        t1 = clock()
        items = identify(parsed.entries)
        t2 = clock()
        unknown = item_queries.unknown_keys(self.db, state.id, [item.key for item in items])
        fresh = [item for item in items if item.key in unknown]
        t3 = clock()
        first_poll = state.first_success_at is None
        new_items = match_items(
            fresh,
            self.watchlist,
            route=self.route,
            first_poll=first_poll,
            now=now,
            max_age=timedelta(hours=24),
        )
        self.matched_items += sum(bool(item.matches) for item in new_items)
        t4 = clock()
        record = PollRecord(
            feed_id=state.id,
            now=now,
            update=FeedUpdate(
                title=parsed.title,
                etag=None,
                last_modified=None,
                fetch_url=None,
                next_poll_at=next_poll_at(now, INTERVAL),
            ),
            items=tuple(new_items),
        )
        saved = item_queries.save_poll(self.db, record)
        t5 = clock()
        if first_poll:
            self.states[doc.url] = replace(state, first_success_at=now)
        for name, seconds in zip(
            STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True
        ):
            self.stage_seconds[name] += seconds
        self.items += len(fresh)
        return saved.new_items

    def poll_all(self, docs: Sequence[FeedDoc]) -> int:
        now = datetime.now(UTC)
        return sum(self.poll(doc, now) for doc in docs)


def timed(func: Callable[[], int]) -> tuple[int, float]:
    """Run ``func`` after a full collection, returning its count and wall seconds."""
    gc.collect()
    start = time.perf_counter()
    count = func()
    return count, time.perf_counter() - start


async def timed_async(func: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    start = time.perf_counter()
    result = await func()
    return result, time.perf_counter() - start


# ------------------------------------------------------------------------ the run


@dataclass
class Results:
    fp_same: Totals = field(default_factory=Totals)
    fp_default: Totals = field(default_factory=Totals)
    direct: Totals = field(default_factory=Totals)
    http: Totals = field(default_factory=Totals)
    not_modified: list[float] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # of the direct pipeline
    matched_share: float = 0.0  # items that matched at least one watch
    alerts_written: int = 0
    profile: str = ""
    problems: list[str] = field(default_factory=list)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check_outcomes(outcomes: Sequence[PollOutcome], status: str, results: Results) -> None:
    for outcome in outcomes:
        if outcome.status != status:
            results.problems.append(
                f"{outcome.url}: expected {status}, got {outcome.status} ({outcome.error})"
            )


async def run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    generator = Generator(args.seed, now)
    server = FeedServer()
    paths = [f"/feeds/{i:03d}.rss" for i in range(args.feeds)]
    rounds = args.warmup + args.repeat + (1 if args.profile else 0)
    progress(f"generating {rounds} rounds x {args.feeds} feeds x {args.items} items ...")
    docs_by_round = [
        [generator.feed(i, r, server.url(path), path, args.items) for i, path in enumerate(paths)]
        for r in range(rounds)
    ]
    results = Results()
    with tempfile.TemporaryDirectory(prefix="newshound-bench-") as tmp, server:
        direct_db = open_database(f"sqlite:///{Path(tmp) / 'direct.db'}")
        config = parse_config(
            {
                "database": {"url": f"sqlite:///{Path(tmp) / 'app.db'}"},
                "feeds": [{"url": server.url(path)} for path in paths],
                "watches": [{"name": n, "query": q} for n, q in WATCHES.items()],
            }
        )
        notifier = CountingNotifier()
        app = App(config, notifiers={CONSOLE: notifier})
        try:
            await app.sync_feeds()
            specs = [FeedSpec(url=server.url(path)) for path in paths]
            direct = DirectPipeline(
                direct_db, app.watchlist, feed_queries.sync_feeds(direct_db, specs)
            )
            for r in range(args.warmup + args.repeat):
                await one_round(r, args, docs_by_round[r], app, server, direct, results)
            results.stage_seconds = dict(direct.stage_seconds)
            results.matched_share = direct.matched_items / max(1, direct.items)
            if args.profile:
                results.profile = profile_direct(direct, docs_by_round[-1], args.profile_top)
        finally:
            await app.aclose()
            direct_db.close()
    report(args, generator, results)
    return 1 if results.problems else 0


async def one_round(
    r: int,
    args: argparse.Namespace,
    docs: Sequence[FeedDoc],
    app: App,
    server: FeedServer,
    direct: DirectPipeline,
    results: Results,
) -> None:
    warm = r < args.warmup
    label = (
        f"warm-up {r + 1}/{args.warmup}" if warm else f"round {r - args.warmup + 1}/{args.repeat}"
    )
    expected = sum(doc.items for doc in docs)

    n_same, s_same = timed(lambda: feedparser_alone(docs, pipeline_options=True))
    n_def, s_def = timed(lambda: feedparser_alone(docs, pipeline_options=False))
    n_direct, s_direct = timed(lambda: direct.poll_all(docs))

    for doc in docs:  # publish this round's fresh items
        server.set(doc.path, Route(body=doc.body, content_type=CONTENT_TYPE))
    outcomes, s_http = await timed_async(lambda: app.poll_all(force=True))
    n_http = sum(o.new_items for o in outcomes)
    check_outcomes(outcomes, "ok", results)
    unchanged, s_304 = await timed_async(lambda: app.poll_all(force=True))
    check_outcomes(unchanged, "not_modified", results)

    progress(
        f"{label}: feedparser {n_same / s_same:7.0f}/s  defaults {n_def / s_def:7.0f}/s  "
        f"pipeline {n_direct / s_direct:7.0f}/s  with HTTP {n_http / s_http:7.0f}/s  "
        f"304 pass {s_304 * 1000:6.0f} ms"
    )
    for name, got in (("feedparser", n_same), ("pipeline", n_direct), ("HTTP", n_http)):
        if got != expected:
            results.problems.append(f"{label}: {name} handled {got} items, expected {expected}")
    if warm:
        direct.stage_seconds = dict.fromkeys(STAGES, 0.0)
        direct.items = direct.matched_items = 0
        return
    results.fp_same.add(n_same, s_same)
    results.fp_default.add(n_def, s_def)
    results.direct.add(n_direct, s_direct)
    results.http.add(n_http, s_http)
    results.not_modified.append(s_304)
    results.alerts_written += sum(o.new_alerts for o in outcomes)


def profile_direct(direct: DirectPipeline, docs: Sequence[FeedDoc], top: int) -> str:
    """One extra round of fresh items through the in-process pipeline under cProfile."""
    progress("profiling one more round of the pipeline without HTTP ...")
    profiler = cProfile.Profile()
    profiler.enable()
    direct.poll_all(docs)
    profiler.disable()
    out = io.StringIO()
    # Leave out this file's own frames (poll_all, poll): they are 100% by construction.
    not_bench = r"^(?!.*bench[/\\]pipeline\.py)(?!.*builtins\.sum)"
    stats = pstats.Stats(profiler, stream=out)
    for order in ("cumulative", "tottime"):
        out.write(f"\ncProfile, pipeline without HTTP ({len(docs)} feeds), top {top} by {order}:\n")
        stats.sort_stats(order).print_stats(not_bench, top)
    skip = ("List reduced", "Ordered by", "function calls")
    lines = out.getvalue().splitlines()
    kept = [line for line in lines if line.strip() and not any(x in line for x in skip)]
    return "\n".join(("\n" + line) if line.startswith("cProfile") else line for line in kept)


# ------------------------------------------------------------------------ the report


def report(args: argparse.Namespace, generator: Generator, results: Results) -> None:
    base = results.fp_same.rate
    docs = args.feeds * args.items
    print(
        f"newshound pipeline benchmark: {args.feeds} feeds x {args.items} items, "
        f"{len(WATCHES)} watches, {args.repeat} timed rounds (+{args.warmup} warm-up), "
        f"fresh items every round"
    )
    print(
        f"python {sys.version.split()[0]}, feedparser {feedparser.__version__}, "
        f"titles {statistics.mean(generator.title_chars):.0f} chars avg, "
        f"summaries {statistics.mean(generator.summary_bytes):.0f} bytes avg HTML, "
        f"{results.matched_share:.0%} of items match a watch "
        f"({docs} items per round)"
    )
    print()
    header = f"{'stage':<46} {'items':>8} {'seconds':>8} {'items/s':>9} {'vs feedparser':>14}"
    print(header)
    print("-" * len(header))
    rows = [
        ("feedparser alone (pipeline's options)", results.fp_same),
        ("feedparser alone (defaults)", results.fp_default),
        ("pipeline without HTTP (in process)", results.direct),
        ("pipeline with HTTP (App.poll_all, 127.0.0.1)", results.http),
    ]
    for name, totals in rows:
        relative = totals.rate / base if base else 0.0
        print(
            f"{name:<46} {totals.items:>8} {totals.seconds:>8.3f} {totals.rate:>9.0f} "
            f"{relative:>13.2f}x"
        )
    pass_304 = statistics.median(results.not_modified) if results.not_modified else 0.0
    feeds_label = f"{args.feeds} feeds"
    print(
        f"{'HTTP pass, every feed answers 304 (median)':<46} {feeds_label:>8} {pass_304:>8.3f} "
        f"{'':>9} {pass_304 / args.feeds * 1000:>10.2f} ms/feed"
    )
    print()
    stage_total = sum(results.stage_seconds.values())
    print("where the pipeline without HTTP spends its time (timed rounds):")
    for name in STAGES:
        seconds = results.stage_seconds[name]
        print(
            f"  {name:<14} {seconds:>8.3f} s  {seconds / stage_total if stage_total else 0:>5.1%}"
        )
    fp_in_parse = results.fp_same.seconds
    print(
        f"  (feedparser alone took {fp_in_parse:.3f} s on the same documents, so parse_feed "
        f"adds {results.stage_seconds['parse_feed'] - fp_in_parse:+.3f} s around it)"
    )
    print()
    ratio = results.direct.rate / base if base else 0.0
    ratio_http = results.http.rate / base if base else 0.0
    verdict = "MET" if ratio >= TARGET else "NOT MET"
    print(
        f"ratio pipeline / feedparser (same options): {ratio:.2f} without HTTP "
        f"(target >= {TARGET:.2f}: {verdict}); {ratio_http:.2f} with HTTP"
    )
    default = results.fp_default.rate
    if default:
        verdict_default = "MET" if results.direct.rate / default >= TARGET else "NOT MET"
        print(
            f"ratio pipeline / feedparser (its defaults, as feedparser.parse(data) runs): "
            f"{results.direct.rate / default:.2f} without HTTP (target: {verdict_default}); "
            f"{results.http.rate / default:.2f} with HTTP"
        )
    print(
        f"304 pass: {pass_304 * 1000:.0f} ms for {args.feeds} feeds "
        f"({pass_304 / args.feeds * 1000:.2f} ms per feed; rounds: "
        + ", ".join(f"{s * 1000:.0f}" for s in results.not_modified)
        + " ms)"
    )
    print(f"alerts written to the outbox by the HTTP pipeline: {results.alerts_written}")
    if results.profile:
        print(results.profile)
    for problem in results.problems:
        print(f"PROBLEM: {problem}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pipeline", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    parser.add_argument("--feeds", type=int, default=40, help="feeds per round (default 40)")
    parser.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--seed", type=int, default=20251124, help="generator seed")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile the pipeline without HTTP"
    )
    parser.add_argument("--profile-top", type=int, default=10, help="profile rows (default 10)")
    args = parser.parse_args(argv)
    if args.feeds < 1 or args.items < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--feeds, --items and --repeat must be >= 1, --warmup >= 0")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

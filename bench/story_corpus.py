"""The story benchmark's input: news-like headlines and leads, and rewordings of them.

Generated, seeded and deterministic: Zipf-like word draws from English and Chinese
lists, so common words are really common and names and numbers rarer. A rewording
is another outlet's report of an event: the headline with its verb swapped for a
synonym of the same direction, maybe a prefix, a lead of its own with the same names
and numbers. Used by bench/story.py; see bench/README.md.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from storage.records import NewItem
from watchers.story import WINDOW

__all__ = ["HOURS", "NOW", "REWORD_NEW", "SPAN", "Corpus", "fetched", "published"]

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)  # fixed, so that runs are alike
SPAN = WINDOW - timedelta(hours=2)  # stored items were fetched over this span before NOW
HOURS = SPAN / timedelta(hours=1)
REWORD_STORED = 0.12  # stored items that reword a recent stored item (same story)
REWORD_NEW = 0.15  # new items that reword a stored item
REWORD_AGE = 6.0  # mean age in hours of the item a new one rewords (exponential)
CORE = ("company", "person", "place", "topic", "number", "move", "act", "day", "quarter")


# --------------------------------------------------------------------------- texts
# One "key: words" block per list (indented lines continue it); "|" separates items
# that hold spaces. Lists are in popularity order: a Zipf draw picks the first words
# far more often. Verb groups ("move": a topic rises; "act": a company halts) are
# synonyms of one direction (watchers.story), so a reworded verb is no conflict.

_EN = """
topic: shares rates prices sales stocks profit inflation exports growth tariffs bonds yields jobs
  demand oil chips orders earnings revenue debt loans output wages deliveries plants stakes deals
  talks strikes budgets taxes subsidies sanctions imports steel copper gold wheat batteries cars
  smartphones software cloud drones satellites vaccines drugs trials rents homes mortgages funds
  insurers bitcoin fares flights shipments buybacks dividends layoffs hiring ports refineries
  mines forecasts guidance licences patents lawsuits fines
place: China|the US|Europe|Japan|Germany|India|Beijing|Shanghai|Hong Kong|London|New York|Tokyo|
  Shenzhen|Taiwan|South Korea|France|Brazil|Mexico|Canada|Australia|Singapore|Vietnam|Indonesia|
  Saudi Arabia|Russia|Ukraine|Turkey|Italy|Spain|Poland|Texas|Paris|California|Frankfurt|Seoul|
  Mumbai|Dubai|Sydney|Toronto|Chicago|Berlin|Milan|Madrid|Zurich|Jakarta|Bangkok|Manila|Hanoi|
  Lagos|Nairobi|Cairo|Istanbul|Warsaw|Oslo|Chile
g: market investors officials government economy policy outlook trade costs energy data report
  plan rules risks recovery competition technology consumers households exporters lenders buyers
  suppliers lawmakers unions analysts traders executives shareholders customers partners rivals
  brokers tenants farmers miners airlines carmakers chipmakers retailers builders developers
  margins pricing capacity inventories spending credit liquidity volatility sentiment momentum
  reform scrutiny approval merger listing valuation funding contracts tensions elections currency
  subsidy quota probe audit tender pipeline backlog
day: Monday Tuesday Wednesday Thursday Friday Saturday Sunday
quarter: the first quarter|the second quarter|the third quarter|the first half
move: rises climbs gains|falls drops slides|holds steadies
act: halts suspends|resumes restarts|approves clears|launches begins|cuts lowers|raises hikes|
  buys acquires|sells offloads|probes investigates|signs inks|expands extends|weighs considers
head: {company} {act} {topic} in {place}|{company} {topic} {move} {number} in {quarter}|
  {place} {topic} {move} {number} as {topic2} {move2}|
  {person}: {company} {act} {topic} worth {number}
lead: {person} of {company} said on {day} that {topic} {move} {number} in {place}.|
  {company} {act} {topic} in {place} on {day} after {topic2} {move} {number}.|
  In {place}, {company} {topic} {move} {number}, {person} told reporters on {day}.
tail: The {g1} comes as {g2} and {g3} in {place2} weigh on {company2}.|
  Analysts at {company2} see {g1} {g2} and {g3} {g4} ahead of {topic2} {g5}.|
  {person2} said {g1} {g2} and {topic3} remain the {g3} to watch.|
  {company3} and {company2} face {g1} over {g2} {g3} in {place2}.
prefix: Update:|Exclusive:|Report:
syllable: Vel Tor Zan Quor Ar Bel Cor Dra Ex Fen Gal Hal Ist Jor Kel Lum Mar Nov Or
ending: nex tron lia gen dex ron lo ta mar sys via tis vo ra
first: Anna Ben Carla Daniel Elena Felix Grace Hugo Ines Jonas Kate Liam Maya Noah
last: Adler Berg Costa Dalton Ferreira Gupta Hartmann Kowalski Moreau Okafor Petrov
"""
_ZH = """
company: 特斯拉 比亚迪 华为 小米 腾讯 阿里巴巴 宁德时代 蔚来 理想汽车 小鹏汽车 京东 美团
  拼多多 百度 字节跳动 中芯国际 吉利汽车 长城汽车 上汽集团 广汽集团 贵州茅台 五粮液 中国平安
  招商银行 工商银行 建设银行 中石油 中石化 中国移动 中国联通 海尔 美的 格力 联想 京东方
  立讯精密 隆基绿能 万科 碧桂园 保利发展 顺丰 中远海控 国航 东航 携程 网易 快手 大疆
  商汤科技 科大讯飞 海康威视 药明康德 恒瑞医药 紫金矿业 宝钢股份
place: 北京 上海 深圳 广州 杭州 武汉 成都 重庆 南京 天津 苏州 西安 长沙 郑州 合肥 青岛 厦门
  香港 东莞 佛山 宁波 无锡 济南 沈阳 大连 昆明 福州 哈尔滨 美国 日本 韩国 德国 欧盟 东南亚
topic: 销量 股价 利润 营收 出口 关税 芯片 电池 新能源汽车 房价 楼市 债券 人民币 汇率 利率
  消费 投资 就业 物价 订单 产能 产量 市场份额 估值 融资 贷款 基金 黄金 原油 钢铁 铜价 光伏
  风电 储能 人工智能 大模型 智能手机 半导体 数据中心 无人机 自动驾驶 充电桩 创新药
g: 市场 投资者 政府 经济 政策 前景 贸易 成本 能源 数据 报告 计划 规则 风险 竞争 技术 消费者
  出口商 银行 买家 供应商 分析师 交易员 高管 股东 客户 券商 农民 车企 零售商 开发商 利润率
  定价 库存 支出 信贷 流动性 波动 情绪 改革 审批 牌照 合并 资金 合同 行业 企业 地方政府
  供应链 产业链 基本面 预期 监管 外资 民营企业 中小企业 平台经济
day: 周一 周二 周三 周四 周五 周六 周日
quarter: 第一季度 第二季度 第三季度 上半年
move: 上涨 上升|下跌 下滑|持平 企稳
act: 暂停 叫停|恢复 重启|批准 获批|发布 推出|下调 降低|上调 提高|收购 并购|调查 审查|签约 签署
head: {company}{place}{topic}{move}{number}|{person}：{company}{act}{topic}|
  {place}{topic}{move}{number}，{company}{act}{topic2}|{company}{quarter}{topic}{move}{number}
lead: {person}{day}表示，{company}在{place}的{topic}{move}{number}，并将{act}{topic2}。|
  据{place}媒体{day}报道，{company}{topic}{move}{number}，公司计划{act}{topic2}。|
  {company}{day}公告称，公司{topic}{move}{number}，{person}表示将{act}{topic}。
tail: {g1}和{g2}仍是{place2}{g3}关注的重点，{company2}表示将密切跟踪。|
  分析师认为，{g1}{g2}将影响{company2}和{company3}的{g3}。|
  {person2}指出，{topic3}与{g1}{g2}之间的联系值得关注。|
  此前，{company3}在{place2}的{g1}{g2}已引起{g3}注意。
prefix: 快讯：|消息称，|据悉，
source: 央行 证监会 发改委 财政部 商务部 国务院 工信部 统计局 外汇局 海关总署
surname: 王 李 张 刘 陈 杨 黄 赵 周 吴 徐 孙 马 朱 胡
given: 伟 芳 敏 静 强 磊 军 洋 勇 杰
"""


def _lists(spec: str) -> dict[str, list[str]]:
    out = {}
    for block in re.split(r"\n(?! )", spec.strip()):
        key, _, rest = block.partition(":")
        rest = " ".join(line.strip() for line in rest.splitlines())
        out[key] = [w.strip() for w in rest.split("|")] if "|" in rest else rest.split()
    return out


class Zipf:
    """Words drawn with weight 1/rank^s."""

    def __init__(self, words: Sequence[str], s: float = 1.0) -> None:
        self.words = list(words)
        self.cum = list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(len(words))))

    def pick(self, rng: random.Random) -> str:
        return self.words[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


class Lang:
    def __init__(self, zh: bool, lists: dict[str, list[str]]) -> None:
        self.zh, self.heads = zh, lists["head"]
        self.leads, self.tails = lists["lead"], lists["tail"]
        self.moves, self.acts = ([tuple(g.split()) for g in lists[k]] for k in ("move", "act"))
        self.prefixes = ["", ""] + [p if zh else p + " " for p in lists["prefix"]]
        self.words = {
            k: Zipf(v, 0.6 if k in ("company", "person") else 0.9) for k, v in lists.items()
        }
        self.synonyms = {v: g for g in self.moves + self.acts for v in g}

    def draw(self, kind: str, rng: random.Random) -> str:
        if kind in ("move", "act"):
            return rng.choice(rng.choice(self.moves if kind == "move" else self.acts))
        if kind != "number":
            return self.words[kind].pick(rng)
        r = rng.random()
        if r < 0.5:
            return f"{rng.randint(1, 30)}%" if r < 0.25 else f"{rng.randint(1, 300) / 10:.1f}%"
        if self.zh:
            return f"{rng.randint(10, 999)}亿元" if r < 0.85 else f"{rng.randint(2, 99)}万辆"
        if r < 0.85:
            return f"${rng.randint(10, 999) / 10:.1f}bn"
        return f"{rng.randint(20, 999) * 100:,}"


class Slots(dict[str, str]):
    """An event's words: the core drawn at once, the rest ("company2", "g3") when first used."""

    def __init__(self, lang: Lang, rng: random.Random) -> None:
        super().__init__()
        self.lang, self.rng = lang, rng
        for key in CORE:
            self[key] = lang.draw(key, rng)

    def __missing__(self, key: str) -> str:
        value = self[key] = self.lang.draw(key.rstrip("0123456789"), self.rng)
        return value


def _languages() -> tuple[Lang, Lang]:
    """About 290 names in English, 250 in Chinese (the same whatever --seed)."""
    rng, en, zh = random.Random(7), _lists(_EN), _lists(_ZH)
    en["company"] = rng.sample([a + b for a in en["syllable"] for b in en["ending"]], 150)
    en["person"] = rng.sample([f"{a} {b}" for a in en["first"] for b in en["last"]], 80)
    people = [a + b for a in zh["surname"] for b in zh["given"]]
    zh["person"] = zh["source"] + rng.sample(people, len(people))
    return Lang(False, en), Lang(True, zh)


EN, ZH = _languages()


class Corpus:
    """Stored texts, and new ones against them. Event e's core words come from an RNG of its
    own, so a rewording redraws them for free instead of keeping them for every item."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.titles: list[str] = []
        self.summaries: list[str] = []
        self.stories: list[int] = []  # story id; stored item j gets id j + 1
        self.events: list[int] = []

    def event(self, e: int) -> Slots:
        rng = random.Random(self.seed * 1_000_003 + e)
        return Slots(ZH if rng.random() < 0.3 else EN, rng)

    def _summary(self, s: Slots, rng: random.Random) -> str:
        tails = rng.sample(s.lang.tails, 2)
        return (rng.choice(s.lang.leads) + tails[0] + tails[1]).format_map(s)

    def original(self, e: int) -> tuple[str, str]:
        s = self.event(e)
        return s.rng.choice(s.lang.heads).format_map(s), self._summary(s, s.rng)

    def reword(self, j: int, rng: random.Random) -> tuple[str, str]:
        """Another outlet on stored item j's event: its headline with the verb swapped for a
        synonym and maybe a prefix; a lead and background of its own, same names and numbers."""
        s = self.event(self.events[j])
        s.rng = rng
        verb = s["act"] if s["act"] in self.titles[j] else s["move"]
        other = rng.choice([v for v in s.lang.synonyms[verb] if v != verb])
        title = rng.choice(s.lang.prefixes) + self.titles[j].replace(verb, other, 1)
        return title, self._summary(s, rng)

    def fill(self, n: int) -> None:
        rng = random.Random(self.seed)
        for j in range(n):
            if j and rng.random() < REWORD_STORED:
                src = max(0, j - 1 - int(rng.expovariate(1 / 200)))
                title, summary = self.reword(src, rng)
                story, event = self.stories[src], self.events[src]
            else:
                (title, summary), story, event = self.original(j), j + 1, j
            self.titles.append(title)
            self.summaries.append(summary)
            self.stories.append(story)
            self.events.append(event)

    def new_items(self, n: int, count: int) -> tuple[list[NewItem], dict[str, int]]:
        """New items against the first n stored; {key: its source's story} for rewordings."""
        rng, expected, out = random.Random(self.seed + n), {}, []
        for i in range(count):
            key, published = f"n{i}", NOW - timedelta(minutes=rng.randint(0, 50))
            if rng.random() < REWORD_NEW:
                age = min(rng.expovariate(1 / REWORD_AGE), HOURS)
                src = max(0, n - 1 - int(age / HOURS * n))
                title, summary = self.reword(src, rng)
                expected[key] = self.stories[src]
            else:
                title, summary = self.original(10_000_000 + i)
            out.append(NewItem(key, None, None, title, summary, published))
        return out, expected


def fetched(j: int, n: int) -> datetime:
    return NOW - SPAN * (n - j) / n


def published(j: int, n: int) -> datetime:
    return fetched(j, n) - timedelta(minutes=j * 7919 % 120)

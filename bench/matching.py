"""Benchmark: the watch matcher with watchlists of 10, 1,000 and 10,000 terms.

Run from the repository root::

    python -m bench.matching                   # 2,000 texts, 1 warm-up + 5 timed passes
    python -m bench.matching --texts 5000 --repeat 7
    python -m bench.matching --profile         # also cProfile match() at 10,000 terms

For each watchlist size it times ``Watchlist.from_queries`` (compile) and
``Watchlist.match(title, summary)`` over a corpus of generated news texts,
in one thread: the whole match stage (normalisation, Traditional-to-
Simplified conversion, the scan and the evaluation of the watches). It also
times ``watchers.text.normalise`` alone on the same texts, to show what share
of the stage normalising takes.

Watchlists and texts are generated with seeded RNGs (``--seed``). Query
features the parser may or may not have yet (``prefix*``, ``NEAR/n``,
``title:``) are probed at start-up and used only if they work. The table goes
to stdout, progress to stderr. Nothing touches the network or the disk.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.metadata
import io
import itertools
import math
import pstats
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from watchers.match import Watchlist
from watchers.query import parse_query
from watchers.query import terms as query_terms
from watchers.text import normalise

SIZES = (10, 1_000, 10_000)
TARGET_RATE = 20_000.0  # texts/s per core at 10,000 terms, at least
TARGET_SLOWDOWN = 2.0  # texts/s at 10 terms / texts/s at 10,000 terms, at most
TARGET_COMPILE = 1.0  # seconds to compile 10,000 terms, under
COMPILE_RUNS = 3  # compiles timed per size (the median is reported)

Pair = tuple[str, str]  # (title, summary)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split("|") if word.strip())


# ------------------------------------------------------------------------ word lists
# Made up for this benchmark. Company, product and people names are built from
# the pieces below; places are real; topic words are what news and watches use.

_SYLLABLE_START = _words(
    "Vel|Tor|Zan|Quor|Ar|Bel|Cor|Dra|Ex|Fen|Gal|Hal|Ist|Jor|Kel|Lum|Mar|Nov|Or|Pax|Rho|Sol|"
    "Tal|Ul|Ver|Wex|Xen|Yor|Zel|Bri|Cal|Dun|Ely|Fal|Gor|Hex|Ivo|Kar|Lor|Mon|Nex|Oda|Pry|Sel|"
    "Tev|Vor|Wyn|Zor"
)
_SYLLABLE_MIDDLE = ("", "a", "o", "i", "e", "u", "ia")
_SYLLABLE_END = _words("n|x|ra|tis|vo|nex|tron|lia|gen|dex|ron|lo|ta|mar|sys|via")
_PRODUCT_WORDS = _words(
    "Orion|Nimbus|Kestrel|Atlas|Vega|Falcon|Aurora|Zephyr|Titan|Helix|Cobalt|Sable|Quill|"
    "Ember|Drift|Halo|Pulse|Rift|Summit|Tundra|Vertex|Lynx|Onyx|Pico|Strata|Talon|Echo|Flux|"
    "Mica|Prism|Raven|Solace|Terra|Volt|Wren|Axis|Bolt|Crest|Dune|Fable|Glyph|Jade|Lumen|"
    "Mosaic|Nomad|Osprey|Pallas|Quasar|Sierra"
)
_PRODUCT_MODELS = _words("X5|X7|S3|S9|Pro|Max|Air|Ultra|One|Mini|Plus|GT|Neo|Lite|E2|R8")
_FIRST_NAMES = _words(
    "Anna|Ben|Carla|Daniel|Elena|Felix|Grace|Hugo|Ines|Jonas|Kate|Liam|Maya|Noah|Olga|Pablo|"
    "Quinn|Rosa|Sam|Tara|Umar|Vera|Will|Xavier|Yara|Zoe|Adam|Bianca|Chloe|Diego|Erik|Fatima|"
    "Gabriel|Hannah|Ivan|Julia|Kenji|Lena|Marco|Nadia|Oscar|Petra|Rahul|Sofia|Tomas|Ursula|"
    "Victor|Wei|Yusuf|Aisha|Bruno|Clara|Dmitri|Eva|Farid|Greta|Hiro|Isla|Jamal|Leila"
)
_LAST_NAMES = _words(
    "Adler|Berg|Costa|Dalton|Eriksen|Ferreira|Gupta|Hartmann|Ibsen|Jansen|Kowalski|Lindqvist|"
    "Moreau|Nakamura|Okafor|Petrov|Quintero|Rossi|Silva|Tanaka|Ueda|Varga|Walsh|Yilmaz|Alvarez|"
    "Becker|Carter|Dubois|Ellis|Fischer|Garcia|Horvat|Ito|Jensen|Kim|Larsen|Mendes|Novak|Ortiz|"
    "Park|Ramos|Schmidt|Torres|Vogel|Weber|Young|Ziegler|Abbott|Brennan|Chowdhury|Duarte|"
    "Esposito|Fontaine|Grant|Haddad|Iyer|Kaur|Laine|Mwangi|Nilsen|Osei|Patel|Reyes|Sato|Thorne|"
    "Vance|Wright|Lund|Marsh|Nolan|Pryce|Quist|Rahman|Stone"
)
_ZH_BRAND_CHARS = (
    "维创锐联泰恒隆鑫瑞源宇星博嘉凯诺锋睿翔澜璟昊晟曜骏琪岚舜禾铭昕悦朗钧沃澄"
    "珂迈途驰拓威辰泽润昌启晶蓝极鹰豹麒麟阔纳奥"
)
_ZH_SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘"
    "袁蔡蒋余杜叶程魏苏吕丁任沈姚卢"
)
_ZH_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉萍红娟建文辉林宇浩凯鹏飞"
    "晨欣怡思远志庆海波亮斌宁雪梅兰琳琪瑶俊峰晓"
)

_EN_PLACES = _words(
    "China|Germany|France|Japan|South Korea|India|Brazil|Mexico|Canada|Australia|Hungary|"
    "Poland|Spain|Italy|Vietnam|Thailand|Indonesia|Turkey|Chile|Norway|Sweden|the Netherlands|"
    "Singapore|Malaysia|South Africa|Nigeria|Kenya|Saudi Arabia|Argentina|Europe|the EU|"
    "the United States|Beijing|Shanghai|Shenzhen|Guangzhou|Hangzhou|Hong Kong|Taipei|Tokyo|"
    "Osaka|Seoul|Mumbai|Bangalore|Jakarta|Hanoi|Bangkok|Manila|Sydney|Melbourne|Auckland|"
    "London|Manchester|Paris|Lyon|Berlin|Munich|Frankfurt|Hamburg|Madrid|Barcelona|Rome|Milan|"
    "Vienna|Zurich|Geneva|Brussels|Amsterdam|Rotterdam|Stockholm|Oslo|Copenhagen|Warsaw|"
    "Prague|Budapest|Istanbul|Dubai|Riyadh|Cairo|Lagos|Nairobi|Johannesburg|New York|"
    "Washington|Chicago|Houston|Austin|Seattle|San Francisco|Los Angeles|Detroit|Boston|"
    "Atlanta|Toronto|Vancouver|Mexico City|Sao Paulo|Buenos Aires|Santiago|Texas|California|"
    "Arizona|Ohio|Bavaria|Ontario"
)
_ZH_PLACES = _words(
    "中国|美国|德国|法国|日本|韩国|印度|巴西|墨西哥|加拿大|澳大利亚|匈牙利|波兰|西班牙|意大利|"
    "越南|泰国|印尼|土耳其|智利|挪威|瑞典|荷兰|新加坡|马来西亚|南非|沙特|阿根廷|欧洲|欧盟|北京|"
    "上海|深圳|广州|杭州|南京|苏州|武汉|成都|重庆|天津|西安|合肥|长沙|郑州|青岛|宁波|厦门|香港|"
    "澳门|台北|东京|大阪|首尔|伦敦|巴黎|柏林|慕尼黑|法兰克福|马德里|罗马|米兰|布鲁塞尔|"
    "阿姆斯特丹|纽约|华盛顿|芝加哥|休斯敦|硅谷|洛杉矶|底特律|多伦多|东南亚|中东|拉美"
)
# Region groups a watch may require: (English names, Chinese names).
_PLACE_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("China", "Beijing", "Shanghai"), ("中国", "北京", "上海")),
    (("Europe", "EU", "Brussels"), ("欧洲", "欧盟")),
    (("United States", "Washington"), ("美国", "华盛顿")),
    (("Japan", "Tokyo"), ("日本", "东京")),
    (("Vietnam", "Thailand", "Indonesia"), ("越南", "泰国", "印尼")),
    (("Germany", "Berlin"), ("德国", "柏林")),
    (("Hong Kong",), ("香港",)),
    (("India", "Mumbai"), ("印度",)),
    (("Mexico",), ("墨西哥",)),
)

# Aligned English and Chinese theme words: modifier x noun makes a watchable phrase.
_THEME_MODIFIERS = (
    ("battery", "电池"), ("chip", "芯片"), ("steel", "钢铁"), ("solar", "光伏"),
    ("data", "数据"), ("bank", "银行"), ("oil", "石油"), ("gas", "天然气"), ("wheat", "小麦"),
    ("rare earth", "稀土"), ("copper", "铜"), ("lithium", "锂"), ("drone", "无人机"),
    ("satellite", "卫星"), ("vaccine", "疫苗"), ("drug", "药品"), ("bond", "债券"),
    ("housing", "房地产"), ("airline", "航空"), ("shipping", "航运"), ("port", "港口"),
    ("rail", "铁路"), ("wind power", "风电"), ("nuclear", "核电"), ("coal", "煤炭"),
    ("cloud", "云计算"), ("robot", "机器人"), ("smartphone", "智能手机"), ("pork", "猪肉"),
    ("fertiliser", "化肥"),
)  # fmt: skip
_THEME_NOUNS = (
    ("tariffs", "关税"), ("subsidies", "补贴"), ("recall", "召回"), ("shortage", "短缺"),
    ("exports", "出口"), ("imports", "进口"), ("prices", "价格"), ("ban", "禁令"),
    ("probe", "调查"), ("mergers", "并购"), ("strike", "罢工"), ("outage", "故障"),
    ("glut", "过剩"), ("quotas", "配额"), ("licences", "许可"), ("auction", "拍卖"),
    ("fraud", "欺诈"), ("lawsuit", "诉讼"), ("rally", "反弹"), ("slump", "暴跌"),
    ("deal", "协议"), ("plant", "工厂"), ("shipments", "出货量"), ("reserves", "储备"),
)  # fmt: skip
_THEMES: tuple[Pair, ...] = tuple(
    (f"{m_en} {n_en}", m_zh + n_zh) for (m_en, m_zh), (n_en, n_zh) in
    itertools.product(_THEME_MODIFIERS, _THEME_NOUNS)
)  # fmt: skip

# Stems for prefix* watches, with phrases (used in English texts) that contain a word
# starting with the stem; without prefix support a watch uses the second element.
_PREFIXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "approv": ("approval", _words(
        "won approval from regulators|had its plan approved by the board|still awaits approval"
    )),
    "recall": ("recall", _words("recalled thousands of units|announced recalls in two markets")),
    "tariff": ("tariffs", _words("warned that tariffs would hit margins|faces new tariffs")),
    "subsid": ("subsidies", _words(
        "applied for state subsidies|received a subsidy for the project"
    )),
    "invest": ("investors", _words(
        "told investors to expect a slower year|invested heavily in new capacity"
    )),
    "export": ("exports", _words("expects exports to slow|exported fewer units than planned")),
    "sanction": ("sanctions", _words("was hit by sanctions|faces sanctions over the deal")),
    "licen": ("licence", _words(
        "secured a licence for the market|is licensing its technology to rivals"
    )),
    "restructur": ("restructuring", _words(
        "began restructuring its debts|restructured its overseas arm"
    )),
    "bankrupt": ("bankruptcy", _words(
        "denied rumours of bankruptcy|warned of bankruptcy risk at a supplier"
    )),
    "regulat": ("regulators", _words("met regulators this week|faces tighter regulation")),
    "default": ("default", _words("defaulted on a bond payment|denied it would default")),
    "acqui": ("acquisition", _words(
        "completed the acquisition of a rival|acquired a stake in a supplier"
    )),
    "merg": ("merger", _words("is in merger talks|merged two divisions")),
    "layoff": ("layoffs", _words("announced layoffs at two plants|ruled out layoffs")),
    "patent": ("patents", _words("filed new patents|won a patent case")),
    "deliver": ("deliveries", _words(
        "missed its deliveries target|delivered its first units to customers"
    )),
}  # fmt: skip
_EXCLUDES = _words("rumour|opinion|sponsored|podcast|GDPR|crypto|传闻|广告|评论")


@dataclass(frozen=True, slots=True)
class Sector:
    """One kind of company: its name suffixes and the topics its stories (and watches) use."""

    weight: float
    en_suffixes: tuple[str, ...]
    zh_suffixes: tuple[str, ...]
    en_topics: tuple[str, ...]
    zh_topics: tuple[str, ...]
    prefixes: tuple[str, ...]


def _sector(weight: float, en_sfx: str, zh_sfx: str, en: str, zh: str, stems: str) -> Sector:
    return Sector(weight, _words(en_sfx), _words(zh_sfx), _words(en), _words(zh), _words(stems))


_SECTORS = (
    _sector(
        1.2, "Motors|Auto|Automotive|Mobility", "汽车|新能源|汽车集团",
        "electric vehicles|battery recall|price cuts|charging stations|self-driving software|"
        "vehicle deliveries|tariffs on electric cars|a new assembly plant|solid-state batteries|"
        "emissions rules|driver-assistance features|robotaxi trials",
        "电动汽车|电池召回|降价|充电桩|自动驾驶|交付量|电动车关税|新工厂|固态电池|排放标准|辅助驾驶|"
        "无人驾驶出租车",
        "recall|tariff|subsid|approv|deliver",
    ),
    _sector(
        1.0, "Semiconductor|Micro|Silicon|Chips", "半导体|微电子|芯片",
        "export controls|advanced chips|AI accelerators|chip subsidies|a new fab|"
        "lithography machines|memory prices|wafer shipments|chip packaging|a supply deal|"
        "2-nanometre production",
        "出口管制|先进芯片|人工智能芯片|芯片补贴|晶圆厂|光刻机|存储芯片价格|晶圆出货|先进封装|供货协议|"
        "2纳米工艺",
        "export|sanction|licen|subsid|invest",
    ),
    _sector(
        1.0, "Bank|Capital|Financial|Securities", "银行|证券|金融|资本",
        "an interest rate cut|the loan prime rate|bond yields|bad loans|a capital raise|"
        "a debt restructuring|the yuan|deposit rates|a liquidity injection|credit ratings|"
        "property loans",
        "降息|贷款市场报价利率|债券收益率|不良贷款|增资|债务重组|人民币汇率|存款利率|流动性投放|信用评级|"
        "房地产贷款",
        "restructur|bankrupt|regulat|default",
    ),
    _sector(
        1.2, "Technologies|Digital|Networks|Cloud", "科技|网络|数字|云",
        "an antitrust probe|data privacy rules|a cybersecurity review|a record fine|"
        "cloud revenue|a large language model|a chatbot launch|data centres|"
        "cross-border data transfers|app store fees|content moderation",
        "反垄断调查|数据隐私|网络安全审查|巨额罚款|云业务收入|大模型|聊天机器人|数据中心|数据出境|"
        "应用商店佣金|内容审核",
        "acqui|merg|regulat|layoff|invest",
    ),
    _sector(
        0.8, "Energy|Power|Resources|Mining", "能源|电力|矿业|资源",
        "lithium prices|rare earth exports|copper output|solar panels|a wind farm|"
        "oil production|gas supplies|a new pipeline|overcapacity|grid storage|coal imports",
        "碳酸锂价格|稀土出口|铜产量|光伏组件|风电场|石油产量|天然气供应|输气管道|产能过剩|储能|煤炭进口",
        "export|sanction|tariff|invest|subsid",
    ),
    _sector(
        0.6, "Pharma|Biotech|Therapeutics|Health", "医药|生物|制药|健康",
        "a cancer drug|vaccine sales|a clinical trial|drug pricing|a patent dispute|"
        "generic drugs|a weight-loss drug|a licensing deal|hospital procurement|a product recall",
        "抗癌药|疫苗销售|临床试验|药品定价|专利纠纷|仿制药|减肥药|授权协议|医院集采|产品召回",
        "approv|licen|recall|acqui|patent",
    ),
    _sector(
        0.6, "Airlines|Aerospace|Shipping|Logistics", "航空|物流|航运|快递",
        "aircraft orders|jet deliveries|freight rates|container shipping|a pilot strike|"
        "port congestion|engine inspections|a new route|fuel costs|cargo volumes",
        "飞机订单|飞机交付|运费|集装箱航运|飞行员罢工|港口拥堵|发动机检查|新航线|燃油成本|货运量",
        "merg|invest|deliver|sanction",
    ),
    _sector(
        0.8, "Foods|Retail|Brands|Stores", "食品|零售|商贸|百货",
        "online sales|a Hong Kong listing|store closures|consumer demand|a price war|"
        "quarterly earnings|a share buyback|delivery fees|food safety|a new flagship store",
        "线上销售|香港上市|门店关闭|消费需求|价格战|季度财报|股票回购|配送费|食品安全|旗舰店",
        "layoff|acqui|invest|bankrupt",
    ),
)  # fmt: skip

_EN = {
    "weekday": _words("Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"),
    "month": _words(
        "January|February|March|April|May|June|July|August|September|October|November|December"
    ),
    "move": _words("rose|fell|jumped|slid|climbed|dropped|edged up|sank"),
    "action": _words(
        "was reviewing its exposure to|would step up its work on|had paused plans tied to|"
        "was in talks about|expected more clarity on|would report on"
    ),
    "title_action": _words(
        "faces questions over|wins backing on|changes course on|takes a stand on|"
        "is under pressure over|bets big on|rethinks its approach to|sees risks in"
    ),
    "source": _words(
        "people familiar with the matter|a filing seen by reporters|local media|two officials|"
        "a company statement|a person briefed on the plans"
    ),
    "bank": _words(
        "Norland Securities|Eastbridge Capital|Harrow & Lyle|Meridian Research|Kelso Partners|"
        "Baywater Advisers"
    ),
    "quote": _words(
        "We are confident in our long-term strategy|Demand has held up better than we feared|"
        "This is a difficult but necessary step|We will keep investing through the cycle|"
        "There is no timetable yet|It is too early to say what this means for prices"
    ),
    "filler": _words(
        "The details were not disclosed.|Officials declined to comment further.|"
        "The figures have not been independently verified.|"
        "A decision is expected within weeks.|Critics say the plan does not go far enough.|"
        "The announcement came late in the day.|More details are expected next week."
    ),
    "quarter": _words("first quarter|second quarter|third quarter|fourth quarter|first half"),
    "tail": _words(
        ", sources say|, analysts warn|as investors wait|ahead of results|after talks in {place}|"
        "despite pressure from {place}"
    ),
    "nth": _words("second|third|fourth"),
    "adjective": _words("long overdue|a surprise|widely expected|hard to explain|welcome"),
}
_EN_TITLES = _words(
    "{co} {title_action} {topic} in {place}|"
    "{place} regulators question {co} over {topic}|"
    "{co} shares {move} {pct}% as worries over {topic} cloud the outlook|"
    "{boss} says {co} will stay the course on {topic}|"
    "{co} and {other} in talks over {topic} as pressure builds in {place}|"
    "{co} {title_action} {topic} in {place}, {boss} tells staff in a memo|"
    "{co} {pphrase}|"
    "Worries over {theme} weigh on {co} as demand in {place} cools"
)
_EN_LEAD = (
    "{co_full} ({ticker}) said on {weekday} that it {action} {topic} in {place}, "
    "a move {source} had expected."
)
_EN_SENTENCES = _words(
    "Shares of {co} {move} {pct}% in {place} trading after the announcement, while the wider "
    "market was little changed.|"
    "“{quote},” {boss}, chief executive of {co}, told reporters in {place}.|"
    "Regulators in {place} have been looking at {topic} since {month}, according to {source}.|"
    "{co} {pphrase}, {source} said.|"
    "Analysts at {bank} cut their price target on {co} to {money}, citing {topic} and softer "
    "demand.|"
    "Revenue rose {pct}% to {money} in the {quarter}, ahead of the average analyst estimate.|"
    "{other} and {other2} are weighing similar steps, two executives who asked not to be "
    "named said.|"
    "The {product} is due to go on sale in {place} in {month}, with a starting price of "
    "{money}.|"
    "Concerns about {theme} have grown in {place} in recent weeks.|"
    "{person}, an analyst at {bank}, said {topic} would shape the sector until {year}.|"
    "{co} employs about {count} people and runs {small} plants in {place} and {place2}.|"
    "The company did not respond to a request for comment on {weekday}.|"
    "Trading volume was {mult} times the daily average, exchange data showed.|"
    "Investors will look for signs of {topic} when {co} reports results on {month} {day}.|"
    "Earlier this year {other} {pphrase}, a step that {co} has so far avoided.|"
    "{filler}|"
    "Officials in {place} said talks on {topic} would resume after the holiday.|"
    "{boss} has led {co} since {year2} and has pushed hard into {place}."
)

# The ordinary news day: stories that no company watch is about.
_GENERAL: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        _words("the national team|the home side|the defending champions|the league leaders|"
               "the head coach|the club's owners"),
        _words("a late winner|the cup final|a new stadium|the transfer window|a knee injury|"
               "a record crowd|the title race"),
        _words("国家队|主队|卫冕冠军|联赛领头羊|主教练"),
        _words("绝杀进球|杯赛决赛|新球场|转会窗口|膝伤|创纪录的观众人数"),
    ),
    (
        _words("forecasters|the weather service|emergency crews|the coastguard|"
               "local authorities"),
        _words("heavy rain|a heatwave|flash floods|strong winds|a cold snap|wildfire smoke|"
               "drought restrictions"),
        _words("气象台|应急管理部门|消防部门|海事部门"),
        _words("强降雨|高温天气|山洪|大风|寒潮|干旱"),
    ),
    (
        _words("the prime minister|the opposition leader|the city council|the finance minister|"
               "lawmakers|the governor"),
        _words("a budget vote|housing reforms|a cabinet reshuffle|school funding|"
               "a transport plan|pension changes|a snap election"),
        _words("市政府|财政部门|人大代表|交通部门"),
        _words("预算草案|住房改革|教育经费|交通规划|养老金调整"),
    ),
    (
        _words("researchers|the space agency|a university team|astronomers|doctors"),
        _words("a new telescope|a lunar mission|a malaria vaccine|a rare fossil|a gene therapy|"
               "ocean warming|a comet"),
        _words("研究人员|航天局|科研团队|天文学家|医生"),
        _words("新型望远镜|探月任务|疟疾疫苗|罕见化石|基因疗法|海洋变暖"),
    ),
    (
        _words("the museum|the festival organisers|the orchestra|a streaming service|"
               "the film academy"),
        _words("a new exhibition|a sold-out tour|a restored painting|the award shortlist|"
               "ticket prices|a literary prize"),
        _words("博物馆|音乐节主办方|交响乐团|流媒体平台|电影节"),
        _words("新展览|巡演门票|修复的古画|获奖名单|文学奖"),
    ),
)  # fmt: skip
_EN_GENERAL_TITLES = _words(
    "Warning from {org} over {obj} in {place}|{place} braces for {obj}|"
    "{Obj}: what we know so far|{Org} under pressure over {obj}|"
    "{Obj} in {place} draws crowds and criticism|"
    "{place} residents told to prepare as {org} reviews {obj}"
)
_EN_GENERAL_LEAD = "{Org} said on {weekday} that {obj} would be the focus in {place} this week."
_EN_GENERAL_SENTENCES = _words(
    "Local media in {place} reported {obj} earlier on {weekday}.|"
    "{person} said the decision had been {adjective}.|"
    "{filler}|"
    "Crowds gathered in {place} as news of {obj} spread.|"
    "{Org2} is expected to give an update by the end of {month}.|"
    "It is the {nth} time this year that {place} has seen {obj}.|"
    "Officials urged residents to check the latest advice before travelling.|"
    "{person}, who has followed the issue for years, called it “{adjective}”.|"
    "A further statement is expected on {weekday}.|"
    "Some {count} people signed a petition about {obj} in {month}."
)

_ZH = {
    "weekday": _words("周一|周二|周三|周四|周五|周六|周日"),
    "move": _words("上涨|下跌|大涨|重挫|小幅上扬|走低"),
    "action": _words("加大投入|暂停相关计划|展开评估|推进合作|推迟决定|重启谈判"),
    "quote": _words(
        "我们对长期战略充满信心|需求好于此前预期|这是艰难但必要的一步|我们将继续加大投入|目前还没有具体时间表"
    ),
    "bank": _words("东桥证券|北岭资本|华岳研究|远澄投资|南屿证券"),
    "filler": _words(
        "具体细节尚未披露。|有关官员拒绝进一步置评。|相关数据尚未得到独立核实。|预计数周内将作出决定。|"
        "批评人士认为该计划力度不足。|更多细节预计将于下周公布。"
    ),
    "tail": _words("，业内人士称|，分析人士提醒|，投资者静待财报|，引发市场关注|，{place}方面回应"),
    "adjective": _words("早该如此|出人意料|在意料之中|令人费解|值得欢迎"),
}
_ZH_TITLES = _words(
    "{co}就{topic}{action}，{place}市场反应不一|"
    "{place}监管部门就{topic}约谈{co}|"
    "{co}股价{move}{pct}%，{topic}拖累前景|"
    "{boss}：{co}将继续推进{topic}|"
    "{co}与{other}就{topic}展开谈判|"
    "{theme}冲击{place}，{co}下调全年预期"
)
_ZH_LEAD = "{co_full}（{ticker}）{weekday}宣布，将在{place}就{topic}{action}，此前市场已有所预期。"
_ZH_SENTENCES = _words(
    "受此消息影响，{co}股价{move}{pct}%，大盘基本持平。|"
    "{co}董事长{boss}在{place}对记者表示：“{quote}”。|"
    "据知情人士透露，{place}监管部门自{monthnum}月以来一直在关注{topic}问题。|"
    "{bank}分析师将{co}目标价下调至{small}{small}元，理由是{topic}以及需求放缓。|"
    "公司第{q}季度营收同比增长{pct}%，至{small}{small}亿元，高于市场预期。|"
    "{other}和{other2}也在考虑采取类似措施。|"
    "{product}将于{monthnum}月在{place}上市，起售价为{count}元。|"
    "近几周，{place}市场对{theme}的担忧持续升温。|"
    "{person}认为，{topic}将在{year}年前持续影响行业格局。|"
    "{co}目前在全球拥有约{count}名员工，在{place}和{place2}设有{small}座工厂。|"
    "截至发稿，{co}尚未回应置评请求。|"
    "交易所数据显示，当日成交量为日均水平的{mult}倍。|"
    "投资者将关注{co}于{monthnum}月{day}日发布的财报，以判断{topic}的影响。|"
    "今年早些时候，{other}已获批准在{place}扩大产能。|"
    "{filler}|"
    "{place}官员表示，有关{topic}的谈判将在假期后恢复。|"
    "{boss}自{year2}年起执掌{co}，一直大力开拓{place}市场。"
)
_ZH_GENERAL_TITLES = _words(
    "{org}提醒：{place}或将迎来{obj}|{place}全力应对{obj}|{obj}最新进展：目前已知的情况|"
    "{org}就{obj}面临压力"
)
_ZH_GENERAL_LEAD = "{org}{weekday}表示，{obj}将成为{place}未来几天关注的焦点。"
_ZH_GENERAL_SENTENCES = _words(
    "当地媒体报道，{place}{weekday}出现了{obj}。|"
    "{person}表示，这一决定{adjective}。|"
    "有关部门提醒市民出行前留意最新信息。|"
    "这是{place}今年第{small}次出现{obj}。|"
    "{org2}预计将在{monthnum}月底前公布最新进展。|"
    "{filler}|"
    "消息传出后，{place}各界反应强烈。|"
    "约有{count}人就{obj}联名提出建议。"
)


# ------------------------------------------------------------------------ the universe


@dataclass(frozen=True, slots=True)
class Company:
    """A made-up company with every name a story or a watch may use for it."""

    sector: Sector
    name: str  # "Veltron"
    full: str  # "Veltron Motors"
    ticker: str  # "VLTR"
    zh: str  # "维创"
    zh_full: str  # "维创汽车"
    products: tuple[str, ...]
    boss: str
    zh_boss: str


@dataclass(frozen=True, slots=True)
class Universe:
    """Everything texts and watches are made of; companies by popularity, most popular first."""

    companies: tuple[Company, ...]
    cum_weights: tuple[float, ...]  # Zipf-like popularity, for rng.choices
    people: tuple[str, ...]  # English names of analysts and bystanders
    zh_people: tuple[str, ...]

    def pick(self, rng: random.Random) -> Company:
        return rng.choices(self.companies, cum_weights=self.cum_weights)[0]


COMPANIES = 4_000
ZIPF = 1.0  # popularity of the company at rank r ~ 1 / (r + ZIPF_OFFSET) ** ZIPF
ZIPF_OFFSET = 8


def build_universe(seed: int) -> Universe:
    rng = random.Random(f"{seed}-universe")
    names = [
        a + b + c for a, b, c in itertools.product(_SYLLABLE_START, _SYLLABLE_MIDDLE, _SYLLABLE_END)
    ]
    rng.shuffle(names)
    people = [f"{a} {b}" for a, b in itertools.product(_FIRST_NAMES, _LAST_NAMES)]
    rng.shuffle(people)
    products = [f"{a} {b}" for a, b in itertools.product(_PRODUCT_WORDS, _PRODUCT_MODELS)]
    rng.shuffle(products)
    reserved = {"AND", "OR", "NOT"}
    tickers: set[str] = set()
    zh_names: set[str] = set()
    zh_people: set[str] = set()
    sector_weights = [s.weight for s in _SECTORS]
    companies = []
    for rank in range(COMPANIES):
        name = names[rank]
        sector = rng.choices(_SECTORS, weights=sector_weights)[0]
        ticker = ""
        while not ticker or ticker in tickers or ticker in reserved:
            ticker = name[0].upper() + "".join(
                rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(rng.choice((2, 3, 3)))
            )
        tickers.add(ticker)
        zh = ""
        while not zh or zh in zh_names:
            zh = "".join(rng.sample(_ZH_BRAND_CHARS, 2 if rank < 2_000 else 3))
        zh_names.add(zh)
        boss = ""
        while not boss or boss in zh_people:
            boss = rng.choice(_ZH_SURNAMES) + "".join(
                rng.choice(_ZH_GIVEN) for _ in range(rng.choice((1, 2, 2)))
            )
        zh_people.add(boss)
        count = rng.choice((0, 1, 1, 2)) if products else 0
        own, products = products[:count], products[count:]
        companies.append(
            Company(
                sector=sector,
                name=name,
                full=f"{name} {rng.choice(sector.en_suffixes)}",
                ticker=ticker,
                zh=zh,
                zh_full=zh + rng.choice(sector.zh_suffixes),
                products=tuple(own),
                boss=people[rank],
                zh_boss=boss,
            )
        )
    weights = [1 / (rank + ZIPF_OFFSET) ** ZIPF for rank in range(COMPANIES)]
    zh_others = sorted(
        {rng.choice(_ZH_SURNAMES) + rng.choice(_ZH_GIVEN) + rng.choice(_ZH_GIVEN)
         for _ in range(400)} - zh_people
    )  # fmt: skip
    return Universe(
        companies=tuple(companies),
        cum_weights=tuple(itertools.accumulate(weights)),
        people=tuple(people[COMPANIES:]),
        zh_people=tuple(zh_others),
    )


# ------------------------------------------------------------------------ the texts


@dataclass(frozen=True, slots=True)
class Corpus:
    texts: tuple[Pair, ...]  # in generated (mixed) order
    languages: tuple[str, ...]  # "en", "zh-Hans" or "zh-Hant", per text

    def subset(self, prefix: str) -> list[Pair]:
        return [t for t, lang in zip(self.texts, self.languages, strict=True)
                if lang.startswith(prefix)]  # fmt: skip


_SLOT = re.compile(r"\{(\w+)\}")


def _fill(template: str, slots: dict[str, Callable[[], str]]) -> str:
    """Replace each {slot}, calling its provider each time (so repeated slots vary);
    a capitalised slot name capitalises the value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        provider = slots.get(name) or slots[name.lower()]
        text = provider()
        return text[:1].upper() + text[1:] if name[0].isupper() else text

    return _SLOT.sub(value, _SLOT.sub(value, template))  # a tail may hold a slot itself


class TextGenerator:
    """Business stories about popular companies, and the rest of the news day."""

    def __init__(self, universe: Universe, seed: int) -> None:
        self.u = universe
        self.rng = random.Random(f"{seed}-texts")
        self._s2t = _simplified_to_traditional()

    def corpus(self, count: int) -> Corpus:
        texts: list[Pair] = []
        languages: list[str] = []
        for _ in range(count):
            if self.rng.random() < 0.7:
                business = self.rng.random() < 0.55
                texts.append(self.english(business))
                languages.append("en")
            else:
                business = self.rng.random() < 0.6
                title, summary = self.chinese(business)
                if self._s2t is not None and self.rng.random() < 0.35:
                    texts.append((self._s2t(title), self._s2t(summary)))
                    languages.append("zh-Hant")
                else:
                    texts.append((title, summary))
                    languages.append("zh-Hans")
        return Corpus(tuple(texts), tuple(languages))

    def _common(self, zh: bool) -> dict[str, Callable[[], str]]:
        rng = self.rng
        words = _ZH if zh else _EN
        slots: dict[str, Callable[[], str]] = {
            name: (lambda options=options: rng.choice(options)) for name, options in words.items()
        }
        places = _ZH_PLACES if zh else _EN_PLACES
        people = self.u.zh_people if zh else self.u.people
        slots.update(
            place=lambda: rng.choice(places),
            place2=lambda: rng.choice(places),
            person=lambda: rng.choice(people),
            pct=lambda: f"{rng.uniform(0.3, 12):.1f}",
            money=lambda: f"${rng.randint(2, 900)} {rng.choice(('million', 'billion'))}",
            count=lambda: f"{rng.randint(1, 90) * 1000:,}",
            small=lambda: str(rng.randint(2, 9)),
            mult=lambda: str(rng.randint(2, 6)),
            year=lambda: str(rng.randint(2026, 2030)),
            year2=lambda: str(rng.randint(2009, 2023)),
            day=lambda: str(rng.randint(1, 28)),
            monthnum=lambda: str(rng.randint(1, 12)),
            q=lambda: rng.choice("一二三四"),
        )
        return slots

    def _company_slots(self, zh: bool) -> dict[str, Callable[[], str]]:
        rng = self.rng
        company = self.u.pick(rng)
        sector = company.sector
        slots = self._common(zh)
        topics = sector.zh_topics if zh else sector.en_topics
        products = company.products or (("新产品",) if zh else ("new product",))
        slots.update(
            co=lambda: company.zh if zh else company.name,
            co_full=lambda: company.zh_full if zh else company.full,
            ticker=lambda: company.ticker,
            boss=lambda: company.zh_boss if zh else company.boss,
            product=lambda: rng.choice(products),
            topic=lambda: rng.choice(topics),
            theme=lambda: rng.choice(_THEMES)[1 if zh else 0],
            other=lambda: self.u.pick(rng).zh if zh else self.u.pick(rng).name,
            other2=lambda: self.u.pick(rng).zh if zh else self.u.pick(rng).name,
            pphrase=lambda: rng.choice(_PREFIXES[rng.choice(sector.prefixes)][1]),
        )
        return slots

    def _general_slots(self, zh: bool) -> dict[str, Callable[[], str]]:
        rng = self.rng
        en_orgs, en_objects, zh_orgs, zh_objects = rng.choice(_GENERAL)
        orgs, objects = (zh_orgs, zh_objects) if zh else (en_orgs, en_objects)
        slots = self._common(zh)
        slots.update(
            org=lambda: rng.choice(orgs),
            org2=lambda: rng.choice(orgs),
            obj=lambda: rng.choice(objects),
        )
        return slots

    def english(self, business: bool) -> Pair:
        rng = self.rng
        if business:
            slots = self._company_slots(zh=False)
            titles, lead, body = _EN_TITLES, _EN_LEAD, _EN_SENTENCES
        else:
            slots = self._general_slots(zh=False)
            titles, lead, body = _EN_GENERAL_TITLES, _EN_GENERAL_LEAD, _EN_GENERAL_SENTENCES
        title = _fill(rng.choice(titles), slots)
        if len(title) < rng.randint(70, 95):
            tail = _fill(rng.choice(_EN["tail"]), slots)
            title += tail if tail.startswith(",") else " " + tail
        target = rng.randint(850, 950)  # characters, ASCII apart from the quotes: ~ bytes
        return title, self._summary(_fill(lead, slots), body, slots, target, zh=False)

    def chinese(self, business: bool) -> Pair:
        rng = self.rng
        if business:
            slots = self._company_slots(zh=True)
            titles, lead, body = _ZH_TITLES, _ZH_LEAD, _ZH_SENTENCES
        else:
            slots = self._general_slots(zh=True)
            titles, lead, body = _ZH_GENERAL_TITLES, _ZH_GENERAL_LEAD, _ZH_GENERAL_SENTENCES
        title = _fill(rng.choice(titles), slots)
        if len(title) < rng.randint(20, 30):
            title += _fill(rng.choice(_ZH["tail"]), slots)
        target = rng.randint(900, 1000)  # UTF-8 bytes: about 320 characters
        return title, self._summary(_fill(lead, slots), body, slots, target, zh=True)

    def _summary(
        self,
        lead: str,
        body: Sequence[str],
        slots: dict[str, Callable[[], str]],
        target: int,
        zh: bool,
    ) -> str:
        sentences = [lead]
        size = _size(lead, zh)
        order = list(body)
        self.rng.shuffle(order)
        for template in itertools.cycle(order):
            sentence = _fill(template, slots)
            if size + _size(sentence, zh) > target + 40:
                if size >= target - 120:
                    break
                continue
            sentences.append(sentence)
            size += _size(sentence, zh) + (0 if zh else 1)
        return ("" if zh else " ").join(sentences)


def _size(text: str, zh: bool) -> int:
    return len(text.encode("utf-8")) if zh else len(text)


def _simplified_to_traditional() -> Callable[[str], str] | None:
    """OpenCC's s2t converter, or None when OpenCC is missing (then no Traditional texts)."""
    try:
        import opencc  # the matcher itself converts with it (t2s)

        converter = opencc.OpenCC("s2t.json")
    except Exception:  # no OpenCC, or no s2t data: fall back to Simplified only
        return None
    convert: Callable[[str], str] = converter.convert
    return convert


# ------------------------------------------------------------------------ the watchlists


@dataclass(frozen=True, slots=True)
class Features:
    """Query features the current parser and matcher support (probed, not assumed)."""

    prefix: bool
    near: bool
    fields: bool
    traditional: bool

    def describe(self) -> str:
        flags = (
            ("prefix*", self.prefix),
            ("NEAR/n", self.near),
            ("title:/summary:", self.fields),
            ("Traditional->Simplified", self.traditional),
        )
        return ", ".join(f"{name} {'yes' if ok else 'no'}" for name, ok in flags)


def probe_features() -> Features:
    """Try each feature on a one-watch list; a parser that lacks one may still accept the
    query (as plain terms), so the probe checks what matches too."""

    def works(query: str, cases: Sequence[tuple[str, str, bool]]) -> bool:
        try:
            parse_query(query)
            watchlist = Watchlist.from_queries({"probe": query})
            return all(bool(watchlist.match(t, s)) == want for t, s, want in cases)
        except Exception:  # any failure means: not available (yet)
            return False

    try:
        traditional = normalise("中國銀行發佈") == normalise("中国银行发布")
    except Exception:
        traditional = False
    return Features(
        prefix=works("approv*", [("Deal approved", "", True), ("Disapproved", "", False)]),
        near=works(
            "alpha NEAR/2 omega",
            [("", "alpha one omega", True), ("", "alpha one two three four omega", False)],
        ),
        fields=works("title:alpha", [("alpha", "", True), ("", "alpha", False)]),
        traditional=traditional,
    )


@dataclass
class WatchSet:
    queries: dict[str, str]
    terms: dict[tuple[str, bool], str] = field(default_factory=dict)  # normalised -> written
    kinds: Counter[str] = field(default_factory=Counter)


class _Terms:
    """Hands out terms while the watchlist stays within its distinct-term budget."""

    def __init__(self, limit: int, cap: int, features: Features) -> None:
        self.used: dict[tuple[str, bool], str] = {}
        self.limit = limit
        self.cap = cap  # new terms per watch at most
        self.features = features
        self.fresh = 0  # new terms in the watch being built

    def start_watch(self) -> None:
        self.fresh = 0

    def take(self, text: str, prefix: bool = False) -> str | None:
        """The term as written in a query, or None if it would break the budget."""
        if prefix and not self.features.prefix:
            text, prefix = _PREFIXES[text][0], False
        key = (normalise(text), prefix)
        if key in self.used:
            return self.used[key]
        if len(self.used) >= self.limit or self.fresh >= self.cap or not key[0]:
            return None
        if prefix:
            written = text + "*"
        elif re.fullmatch(r"[\w]+", text):
            written = text
        else:
            written = f'"{text}"'
        self.used[key] = written
        self.fresh += 1
        return written

    def group(self, texts: Sequence[str], prefixes: Sequence[str] = ()) -> list[str]:
        taken = [self.take(t) for t in texts] + [self.take(p, prefix=True) for p in prefixes]
        return list(dict.fromkeys(t for t in taken if t is not None))


def _or(terms: Sequence[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def build_watchlist(universe: Universe, n_terms: int, seed: int, features: Features) -> WatchSet:
    """Watches until exactly ``n_terms`` distinct terms are used.

    Kinds: companies (names, tickers, Chinese names, products) AND their sector's
    topics; one company alone; a person; a product AND topics; a theme AND a
    region; and, when the parser has them, NEAR/n and title: variants.
    """
    rng = random.Random(f"{seed}-watchlist-{n_terms}")
    # Popular companies first, but not strictly (weighted sampling without replacement).
    # Efraimidis-Spirakis keys u ** (1 / weight), with weight = 1 / (rank + offset) ** ZIPF.
    keyed = [
        (rng.random() ** ((rank + ZIPF_OFFSET) ** ZIPF), rank)
        for rank in range(len(universe.companies))
    ]
    order = iter([universe.companies[rank] for _, rank in sorted(keyed, reverse=True)])
    themes = list(_THEMES)
    rng.shuffle(themes)
    theme_iter = iter(themes)
    terms = _Terms(n_terms, cap=min(14, max(2, math.ceil(n_terms / 3))), features=features)
    kinds = {"companies": 0.46, "company": 0.12, "person": 0.08, "product": 0.08, "theme": 0.14}
    kinds["near"] = 0.06 if features.near else 0.0
    kinds["title"] = 0.06 if features.fields else 0.0
    kinds["companies"] += 0.12 - kinds["near"] - kinds["title"]
    watches = WatchSet(queries={})
    stalled = 0
    while len(terms.used) < n_terms:
        terms.start_watch()
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        query = _watch(kind, rng, terms, order, theme_iter)
        if query is None or terms.fresh == 0:
            stalled += 1
            if stalled > 1_000:
                raise RuntimeError(f"the word lists ran out at {len(terms.used)} terms")
            continue
        watches.queries[f"w{len(watches.queries) + 1:05d} {kind}"] = query
        watches.kinds[kind] += 1
    watches.terms = terms.used
    return watches


def _company_names(rng: random.Random, terms: _Terms, company: Company, most: int) -> list[str]:
    names = [company.name, company.ticker, company.zh, company.full, company.zh_full]
    names = names[:2] + rng.sample(names[2:], k=rng.randint(1, 3)) + list(company.products)
    return terms.group(names[:most])


def _topics(rng: random.Random, terms: _Terms, sector: Sector) -> list[str]:
    en = rng.sample(sector.en_topics, k=rng.randint(2, 4))
    zh = rng.sample(sector.zh_topics, k=rng.randint(1, 2))
    stems = rng.sample(sector.prefixes, k=1) if rng.random() < 0.4 else []
    return terms.group(en + zh, stems)


def _region(rng: random.Random, terms: _Terms) -> list[str]:
    en, zh = rng.choice(_PLACE_GROUPS)
    return terms.group(list(en) + list(zh))


def _watch(
    kind: str,
    rng: random.Random,
    terms: _Terms,
    order: Iterator[Company],
    themes: Iterator[Pair],
) -> str | None:
    """One query of the given kind, or None if the budget left no room for it.

    ``order`` yields companies, popular ones first; ``themes`` yields theme pairs.
    Each builder takes its required group first and gives up before taking more
    terms, so that every term taken ends up in the query.
    """
    if kind == "theme":
        picked = [next(themes) for _ in range(rng.randint(2, 4))]
        subject = terms.group([t for pair in picked for t in pair])
        if not subject:
            return None
        region = _region(rng, terms)
        return _or(subject) + (f" AND {_or(region)}" if region else "")
    company = next(order)
    if kind == "person":
        people = terms.group([company.boss, company.zh_boss])
        if not people:
            return None
        names = (
            terms.group([company.name, company.ticker, company.zh]) if rng.random() < 0.7 else []
        )
        return _or(people) + (f" AND {_or(names)}" if names else "")
    if kind == "company":
        names = _company_names(rng, terms, company, most=7)
        return _or(names) if names else None
    if kind == "product":
        products = terms.group([*company.products, company.full, company.zh_full])
        if not products:
            return None
        topics = _topics(rng, terms, company.sector)
        return _or(products) + (f" AND {_or(topics)}" if topics else "")
    if kind == "near":  # Latin names only: NEAR counts tokens, and Chinese has no spaces
        names = terms.group([company.name, company.full, company.ticker, *company.products])
        if not names:
            return None
        topics = terms.group(rng.sample(company.sector.en_topics, k=rng.randint(2, 3)))
        if not topics:
            return _or(names)
        return f"{_or(names)} NEAR/{rng.choice((5, 8, 10, 15))} {_or(topics)}"
    # companies, title: a group of companies (of one sector) and that sector's topics.
    group = [company]
    if kind == "companies":
        group += [next(order) for _ in range(rng.choices((0, 1, 2, 3), (2, 3, 3, 2))[0])]
    names = list(dict.fromkeys(n for c in group for n in _company_names(rng, terms, c, most=7)))
    if not names:
        return None
    topics = _topics(rng, terms, company.sector)
    query = ("title:" if kind == "title" else "") + _or(names)
    query += f" AND {_or(topics)}" if topics else ""
    if rng.random() < 0.25 and (region := _region(rng, terms)):
        query += f" AND {_or(region)}"
    if rng.random() < 0.2 and (exclude := terms.take(rng.choice(_EXCLUDES))):
        query += f" -{exclude}"
    return query


def count_terms(queries: Mapping[str, str]) -> int:
    """Distinct terms in the queries as the parser reads them (normalised; a prefix
    counts apart from the same exact word), to check the generator's own count."""
    keys = set()
    for query in queries.values():
        for term in query_terms(parse_query(query)):
            keys.add((normalise(term.text), bool(getattr(term, "prefix", False))))
    return len(keys)


# ------------------------------------------------------------------------ the timing


@dataclass
class Timing:
    """Seconds per timed pass over a list of texts."""

    texts: int
    passes: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(self.passes) if self.passes else 0.0

    @property
    def rate(self) -> float:
        return self.texts / self.seconds if self.seconds else 0.0

    @property
    def best_rate(self) -> float:
        return self.texts / min(self.passes) if self.passes else 0.0

    @property
    def micros(self) -> float:
        return self.seconds / self.texts * 1e6 if self.texts else 0.0


@dataclass
class SizeResult:
    size: int
    watches: int
    terms: int
    patterns: int | None  # the matcher's own count, when it exposes one
    kinds: Counter[str]
    examples: dict[str, str]
    compiles: list[float]
    whole: Timing
    english: Timing
    chinese: Timing
    matched: int = 0  # texts with at least one hit
    hits: int = 0
    found: float = 0.0  # distinct terms present per text (average)
    candidates: float = 0.0  # watches with at least one of their terms present, per text

    @property
    def compile_seconds(self) -> float:
        return statistics.median(self.compiles)


def timed(func: Callable[[], object], repeat: int, texts: int) -> Timing:
    """``repeat`` passes of ``func`` (one thread, after a full collection each)."""
    timing = Timing(texts)
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        timing.passes.append(time.perf_counter() - start)
    return timing


def match_pass(watchlist: Watchlist, texts: Sequence[Pair]) -> tuple[int, int]:
    """Match every text; returns (texts with a hit, hits)."""
    match = watchlist.match
    matched = hits = 0
    for title, summary in texts:
        found = match(title, summary)
        if found:
            matched += 1
            hits += len(found)
    return matched, hits


def normalise_pass(texts: Sequence[Pair]) -> None:
    for title, summary in texts:
        normalise(title)
        normalise(summary)


def measure_size(
    size: int, universe: Universe, corpus: Corpus, args: argparse.Namespace, features: Features
) -> tuple[SizeResult, Watchlist]:
    watchset = build_watchlist(universe, size, args.seed, features)
    progress(
        f"{size:,} terms: {len(watchset.queries):,} watches "
        f"({', '.join(f'{k} {n}' for k, n in sorted(watchset.kinds.items()))}); compiling ..."
    )
    compiles = []
    watchlist = None
    for _ in range(COMPILE_RUNS):
        watchlist = None  # let the previous one go before timing the next
        gc.collect()
        start = time.perf_counter()
        watchlist = Watchlist.from_queries(watchset.queries)
        compiles.append(time.perf_counter() - start)
    assert watchlist is not None
    texts, english, chinese = corpus.texts, corpus.subset("en"), corpus.subset("zh")
    matched, hits = match_pass(watchlist, texts)  # the warm-up pass, also counting hits
    for _ in range(args.warmup - 1):
        match_pass(watchlist, texts)
    whole = timed(lambda: match_pass(watchlist, texts), args.repeat, len(texts))
    en = timed(lambda: match_pass(watchlist, english), args.repeat, len(english))
    zh = timed(lambda: match_pass(watchlist, chinese), args.repeat, len(chinese))
    progress(
        f"  compile {statistics.median(compiles):.3f} s; passes: "
        + ", ".join(f"{len(texts) / s:,.0f}" for s in whole.passes)
        + f" texts/s; {matched / len(texts):.1%} of texts matched"
    )
    found, candidates = term_presence(watchset, texts)
    examples: dict[str, str] = {}
    for name, query in watchset.queries.items():
        examples.setdefault(name.split(" ", 1)[1], query)
    result = SizeResult(
        size=size,
        watches=len(watchset.queries),
        terms=count_terms(watchset.queries),
        patterns=getattr(watchlist, "term_count", None),
        kinds=watchset.kinds,
        examples=examples,
        compiles=compiles,
        whole=whole,
        english=en,
        chinese=zh,
        matched=matched,
        hits=hits,
        found=found,
        candidates=candidates,
    )
    return result, watchlist


def term_presence(watchset: WatchSet, texts: Sequence[Pair]) -> tuple[float, float]:
    """Average distinct terms present per text, and watches with at least one term present.

    Found with the matcher itself (one single-term watch per term), so boundaries,
    prefixes and conversion count as they do in matching. Not timed.
    """
    per_term = Watchlist.from_queries({written: written for written in watchset.terms.values()})
    watches_of: dict[str, list[int]] = {}
    for index, query in enumerate(watchset.queries.values()):
        for term in query_terms(parse_query(query)):
            key = (normalise(term.text), bool(getattr(term, "prefix", False)))
            watches_of.setdefault(watchset.terms.get(key, ""), []).append(index)
    found = candidates = 0
    for title, summary in texts:
        present = [hit.watch for hit in per_term.match(title, summary)]
        found += len(present)
        candidates += len(set().union(*(watches_of.get(w, ()) for w in present)))
    return found / len(texts), candidates / len(texts)


def profile_match(watchlist: Watchlist, texts: Sequence[Pair], top: int) -> str:
    """One pass of match() under cProfile, the top entries by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    match_pass(watchlist, texts)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(r"^(?!.*bench[/\\]matching\.py)", top)
    skip = ("List reduced", "Ordered by")
    return "\n".join(
        line for line in out.getvalue().splitlines() if line.strip() and not any(
            s in line for s in skip)
    )  # fmt: skip


# ------------------------------------------------------------------------ the report


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def report(
    args: argparse.Namespace,
    corpus: Corpus,
    features: Features,
    results: Sequence[SizeResult],
    norm: tuple[Timing, Timing, Timing],
    profile: str,
) -> int:
    """Print the tables and verdicts; returns the number of problems found."""
    languages = Counter(corpus.languages)
    en_texts, zh_texts = corpus.subset("en"), corpus.subset("zh")

    def avg(texts: Sequence[Pair], index: int, measure: Callable[[str], int]) -> float:
        return statistics.mean(measure(t[index]) for t in texts) if texts else 0.0

    def nbytes(text: str) -> int:
        return len(text.encode("utf-8"))

    print(
        f"newshound matcher benchmark: {len(corpus.texts):,} texts, median of {args.repeat} "
        f"timed passes after {args.warmup} warm-up, one thread, Watchlist.match(title, summary)"
    )
    print(
        f"python {sys.version.split()[0]}, ahocorasick-rs {_version('ahocorasick-rs')}, "
        f"opencc {_version('opencc')}; query features: {features.describe()}"
    )
    print(
        f"texts: {languages['en']:,} English (title {avg(en_texts, 0, len):.0f} chars, "
        f"summary {avg(en_texts, 1, len):.0f} chars / {avg(en_texts, 1, nbytes):.0f} bytes), "
        f"{languages['zh-Hans']:,} Simplified + {languages['zh-Hant']:,} Traditional Chinese "
        f"(title {avg(zh_texts, 0, len):.0f} chars, summary {avg(zh_texts, 1, len):.0f} chars "
        f"/ {avg(zh_texts, 1, nbytes):.0f} bytes)"
    )
    print()
    header = (
        f"{'watchlist':<17} {'watches':>7} {'terms':>6} {'patterns':>8} {'compile s':>9} "
        f"{'texts/s':>8} {'best/s':>8} {'µs/text':>7} {'EN µs':>6} {'ZH µs':>6} "
        f"{'vs 10 terms':>11}"
    )
    print(header)
    print("-" * len(header))
    base = results[0].whole.rate
    for r in results:
        patterns = f"{r.patterns:,}" if r.patterns is not None else "-"
        print(
            f"{f'{r.size:,} terms':<17} {r.watches:>7,} {r.terms:>6,} {patterns:>8} "
            f"{r.compile_seconds:>9.4f} {r.whole.rate:>8,.0f} {r.whole.best_rate:>8,.0f} "
            f"{r.whole.micros:>7.1f} {r.english.micros:>6.1f} {r.chinese.micros:>6.1f} "
            f"{r.whole.rate / base if base else 0:>10.2f}x"
        )
    whole, en, zh = norm
    print(
        f"{'normalise() only':<17} {'':>7} {'':>6} {'':>8} {'':>9} {whole.rate:>8,.0f} "
        f"{whole.best_rate:>8,.0f} {whole.micros:>7.1f} {en.micros:>6.1f} {zh.micros:>6.1f}"
    )
    shares = ", ".join(
        f"{whole.micros / r.whole.micros:.0%} at {r.size:,} terms"
        for r in results
        if r.whole.micros
    )
    print(f"  (normalise() on title + summary; its share of match(): {shares})")
    print()
    header = (
        f"{'work per text':<17} {'terms present':>13} {'candidate watches':>17} "
        f"{'hits':>6} {'texts matched':>13}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{f'{r.size:,} terms':<17} {r.found:>13.2f} {r.candidates:>17.1f} "
            f"{r.hits / len(corpus.texts):>6.3f} {r.matched / len(corpus.texts):>13.1%}"
        )
    print("  (candidate watches: watches with at least one of their terms in the text)")
    print()
    first, last = results[0], results[-1]
    slowdown = first.whole.rate / last.whole.rate if last.whole.rate else math.inf
    print(
        f"slowdown {first.size:,} -> {last.size:,} terms: {slowdown:.2f}x "
        f"(target <= {TARGET_SLOWDOWN:.1f}x: {_verdict(slowdown <= TARGET_SLOWDOWN)})"
    )
    print(
        f"throughput at {last.size:,} terms: {last.whole.rate:,.0f} texts/s per core "
        f"(target >= {TARGET_RATE:,.0f}: {_verdict(last.whole.rate >= TARGET_RATE)})"
    )
    print(
        f"compile {last.size:,} terms: {last.compile_seconds:.3f} s "
        f"(median of {COMPILE_RUNS}; target < {TARGET_COMPILE:.0f} s: "
        f"{_verdict(last.compile_seconds < TARGET_COMPILE)})"
    )
    print()
    print(f"one watch of each kind at {last.size:,} terms:")
    for kind, query in sorted(last.examples.items()):
        print(f"  {kind:<10} {query if len(query) <= 110 else query[:107] + '...'}")
    if profile:
        print()
        print(f"cProfile, one pass of match() at {last.size:,} terms, top {args.profile_top} "
              "by own time:")  # fmt: skip
        print(profile)
    problems = [
        f"the {r.size:,}-term watchlist has {r.terms:,} distinct terms"
        for r in results
        if r.terms != r.size
    ]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return len(problems)


# ------------------------------------------------------------------------ the run


def run(args: argparse.Namespace) -> int:
    if hasattr(normalise, "cache_info"):
        progress("note: normalise() is memoised; repeated passes over one corpus may flatter it")
    normalise("中國")  # load OpenCC's dictionaries before anything is timed
    features = probe_features()
    progress(f"query features available: {features.describe()}")
    missing = [
        name
        for name, ok in (("prefix*", features.prefix), ("NEAR/n", features.near),
                         ("title:", features.fields))
        if not ok
    ]  # fmt: skip
    if missing:
        progress(f"note: watches use plain terms instead of {', '.join(missing)}")
    progress(f"generating {args.texts:,} texts ...")
    universe = build_universe(args.seed)
    corpus = TextGenerator(universe, args.seed).corpus(args.texts)
    results = []
    profile = ""
    for size in SIZES:
        result, watchlist = measure_size(size, universe, corpus, args, features)
        results.append(result)
        if args.profile and size == SIZES[-1]:
            progress("profiling one more pass ...")
            profile = profile_match(watchlist, corpus.texts, args.profile_top)
        del watchlist
    progress("timing normalise() alone ...")
    english, chinese = corpus.subset("en"), corpus.subset("zh")
    normalise_pass(corpus.texts)
    norm = (
        timed(lambda: normalise_pass(corpus.texts), args.repeat, len(corpus.texts)),
        timed(lambda: normalise_pass(english), args.repeat, len(english)),
        timed(lambda: normalise_pass(chinese), args.repeat, len(chinese)),
    )
    return 1 if report(args, corpus, features, results, norm, profile) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.matching", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    parser.add_argument("--texts", type=int, default=2_000, help="texts (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed passes first (default 1)")
    parser.add_argument("--seed", type=int, default=20251124, help="generator seed")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile match() at 10,000 terms"
    )
    parser.add_argument("--profile-top", type=int, default=10, help="profile rows (default 10)")
    args = parser.parse_args(argv)
    if args.texts < 10 or args.repeat < 1 or args.warmup < 1:
        parser.error("--texts must be >= 10, --repeat and --warmup >= 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

//! Static material for the simulator: real phone models, number segments, network ranges,
//! names and texts. IP ranges were checked against the shipped intelligence
//! (`sheepdog intel check`): honest ranges match no datacenter, VPN or cloud list; the bot ranges do.

/// Real phone models with their OS (honest users and adaptive bots).
pub const PHONE_MODELS: [(&str, &str); 16] = [
    ("iPhone15,2", "iOS 17.5"),
    ("iPhone16,1", "iOS 18.1"),
    ("iPhone14,5", "iOS 17.6"),
    ("iPhone13,2", "iOS 16.7"),
    ("ALN-AL00", "HarmonyOS 4.2"),
    ("BRA-AL00", "HarmonyOS 4.0"),
    ("23127PN0CC", "Android 14"),
    ("23113RKC6C", "Android 14"),
    ("2211133C", "Android 13"),
    ("PJH110", "Android 14"),
    ("PHY110", "Android 14"),
    ("V2309A", "Android 14"),
    ("V2254A", "Android 13"),
    ("REA-AN00", "HarmonyOS 3.0"),
    ("SM-S9180", "Android 14"),
    ("RMX3800", "Android 14"),
];

/// Tablets a family shares (no SIM card).
pub const TABLET_MODELS: [(&str, &str); 3] =
    [("iPad13,18", "iPadOS 17.5"), ("BAH4-W09", "HarmonyOS 3.0"), ("23043RP34C", "Android 13")];

/// Emulator and cloud-phone model strings (as in `intel/sheepdog/device-models.tsv`).
pub const EMULATOR_MODELS: [(&str, &str); 6] = [
    ("sdk_gphone64_x86_64", "Android 13"),
    ("Android SDK built for x86", "Android 11"),
    ("Nox SM-G988N", "Android 9"),
    ("MuMu", "Android 12"),
    ("LDPlayer", "Android 9"),
    ("Redfinger RF-C3", "Android 10"),
];

/// Ordinary mainland mobile segments (3 digits; 8 more digits follow).
pub const ORDINARY_SEGMENTS: [u64; 24] = [
    134, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159, 182, 187, 188, 130, 131, 132, 155, 156, 186, 133, 153,
    189,
];
/// More ordinary segments, used less often.
pub const ORDINARY_SEGMENTS_RARE: [u64; 6] = [180, 181, 177, 199, 191, 166];

/// Honest MVNO segments (4 digits for 170x; 3 digits otherwise, extended to 4 below).
pub const MVNO_PREFIXES: [u64; 8] = [1700, 1705, 1709, 1710, 1711, 1620, 1650, 1670];

/// International numbers: country code, national prefix, digits after the prefix.
pub const INTERNATIONAL: [(u16, u64, u32); 8] =
    [(1, 646, 7), (1, 415, 7), (44, 79, 8), (65, 9, 7), (81, 90, 8), (852, 9, 7), (886, 9, 8), (61, 4, 8)];

/// An IPv4 range as (first address, size).
pub type Range = (u32, u32);

pub const fn v4(a: u32, b: u32, c: u32, d: u32) -> u32 {
    (a << 24) | (b << 16) | (c << 8) | d
}

/// Mainland mobile carrier ranges (CGNAT; shared by many subscribers).
pub const MOBILE_RANGES: [Range; 5] = [
    (v4(223, 104, 0, 0), 1 << 16),
    (v4(117, 136, 0, 0), 1 << 16),
    (v4(39, 144, 0, 0), 1 << 16),
    (v4(112, 97, 0, 0), 1 << 16),
    (v4(120, 229, 0, 0), 1 << 16),
];

/// Mainland mobile IPv6 prefixes (first 32 bits; China Mobile, China Telecom, China Unicom): every
/// handset gets its own /64.
pub const MOBILE_V6_PREFIXES: [u32; 4] = [0x2409_8900, 0x2409_891f, 0x240e_03b0, 0x2408_8470];

/// Disposable mailbox domains (listed by the intelligence).
pub const DISPOSABLE_DOMAINS: [&str; 3] = ["mailinator.com", "guerrillamail.com", "yopmail.com"];

/// Mainland home broadband ranges (a household keeps its address for days).
pub const BROADBAND_RANGES: [Range; 12] = [
    (v4(183, 195, 0, 0), 1 << 16),
    (v4(116, 230, 0, 0), 1 << 16),
    (v4(124, 64, 0, 0), 1 << 16),
    (v4(113, 88, 0, 0), 1 << 16),
    (v4(58, 246, 0, 0), 1 << 16),
    (v4(222, 128, 0, 0), 1 << 16),
    (v4(171, 8, 0, 0), 1 << 16),
    (v4(110, 87, 0, 0), 1 << 16),
    (v4(60, 191, 0, 0), 1 << 16),
    (v4(121, 35, 0, 0), 1 << 16),
    (v4(14, 145, 0, 0), 1 << 16),
    (v4(27, 38, 0, 0), 1 << 16),
];

/// Campus and corporate NAT egress addresses (hundreds of users behind each).
pub const CAMPUS_NAT: [u32; 4] = [v4(202, 120, 1, 9), v4(166, 111, 4, 20), v4(202, 120, 2, 17), v4(166, 111, 8, 3)];

/// Residential ranges abroad (travellers, international users).
pub const ABROAD_RANGES: [Range; 4] = [
    (v4(126, 12, 0, 0), 1 << 16),
    (v4(86, 150, 0, 0), 1 << 16),
    (v4(73, 12, 0, 0), 1 << 16),
    (v4(116, 86, 0, 0), 1 << 16),
];

/// Datacenter and mainland-cloud ranges listed by the intelligence (reg bots, SMS pumping).
pub const DATACENTER_RANGES: [Range; 5] = [
    (v4(47, 100, 0, 0), 1 << 16),
    (v4(1, 12, 0, 0), 1 << 16),
    (v4(101, 32, 0, 0), 1 << 14),
    (v4(43, 135, 0, 0), 1 << 15),
    (v4(8, 210, 0, 0), 1 << 16),
];

/// Real numbers listed on public receive-SMS sites in the shipped intelligence
/// (`intel/sms-receive-numbers/numbers.csv`, last listed October-November 2025).
pub const LISTED_NUMBERS: [u64; 12] = [
    13023317658,
    13044020049,
    13054843975,
    13060503784,
    13063453340,
    13082581472,
    13043605884,
    13056955907,
    13041889507,
    13043550078,
    13009930261,
    13025553585,
];

pub const SURNAMES: [&str; 16] =
    ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "林"];
pub const NICK_WORDS: [&str; 20] = [
    "晴天", "小鱼", "阿木", "橘子", "walker", "老猫", "Sunny", "豆豆", "山海", "木木", "leo", "小七", "风铃", "Momo",
    "阿杰", "kiki", "南风", "大白", "Yuki", "星河",
];
pub const HONEST_BIOS: [&str; 12] = [
    "喜欢爬山和摄影",
    "在上海工作，周末打球",
    "猫奴一枚",
    "热爱生活",
    "coffee, books, cats",
    "学生党，爱看电影",
    "跑步爱好者 🏃",
    "做饭、旅行、发呆",
    "新手妈妈",
    "程序员，偶尔写字",
    "",
    "Live and let live",
];
pub const HONEST_POSTS: [&str; 14] = [
    "周末有人一起去爬香山吗？",
    "今天的晚霞太美了",
    "求推荐好看的电影",
    "这家火锅店真不错，排队一小时值了",
    "新买的相机，试拍一张",
    "hello everyone, new here!",
    "明天考试，祝我好运",
    "有没有一起跑步的朋友，朝阳公园",
    "分享一个家常菜做法：番茄炒蛋",
    "猫咪今天又拆家了😂",
    "上班第一天，有点紧张",
    "求助：这个软件怎么改头像？",
    "双十一买了啥？晒一晒",
    "下雨天适合睡觉",
];
/// Honest support-style posts that mention verification codes (a text-audit trap).
pub const CODE_TALK_POSTS: [&str; 8] = [
    "我的验证码一直收不到，怎么办？",
    "my verification code didn't arrive, tried three times",
    "换了手机号以后验证码发到旧号上了，客服能帮忙吗",
    "为什么我收到了别人的验证码短信？是不是被盗号了",
    "提醒大家：不要把验证码告诉任何人，今天差点被骗",
    "注册的时候短信验证码过期了，重新发也不行",
    "SIM卡换了新的，验证码收不到，求助",
    "客服说让我等五分钟再获取验证码",
];

/// Romance / investment scam scripts with contact diversion, lightly evaded.
pub const SCAM_POSTS: [&str; 10] = [
    "哥哥好，我是做投资的，导师带单稳赚不赔，加薇信 lucky8899 带你赚钱",
    "一个人在外地很孤单，想找个真心的人，V❤: miya6688",
    "每天收益百分之三十，充值返利，详情加ｗｅｉｘｉｎ：jx20251",
    "姐姐带你玩彩票，包赢，微 信 q778899a",
    "想认识你呀，这里不常上，加我vx：sweet_1314",
    "最近在做一个项目，稳赚，有兴趣私聊，威信 tz8866",
    "高回报理财，导师一对一指导，加薇信\u{200b}: abc95588",
    "不想在这里聊，加个微\u{200b}信吧 lily_520",
    "带你上车，日赚三千，稳赚不亏，+V: cai88866",
    "我是空姐，想找个人聊天，扣扣 1234567890",
];
/// The same scripts with heavier evasion: homoglyphs, pinyin, initials.
pub const SCAM_POSTS_ADAPTIVE: [&str; 10] = [
    "哥哥好，跟着laoshi做单，wen zhuan bu pei，jia wei xin: lucky8899",
    "一个人好孤单，想找个真心的人，ⓥⓧ：miya6688",
    "每天shou yi 30%，chong zhi fan li，wеiхin（俄文字母）jx20251",
    "带你玩cai piao，bao ying，w x: q778899a",
    "想认识你呀，这里不常上，v 丨 x：sweet_1314",
    "最近在做一个xiang mu，wz，私聊，薇‧信 tz8866",
    "高回报li cai，导师一对一，加 ｖ ｘ 号 abc95588",
    "不想在这里聊，jia ge wei xin 吧 lily_520",
    "带你上车，ri zhuan 3k，Ｖ⭐: cai88866",
    "想找个人聊天，企鹅号 1234567890",
];
pub const SCAM_BIOS: [&str; 4] = [
    "金融分析师｜导师带单｜稳赚｜加薇信了解",
    "温柔体贴，寻找真心人，V❤ 联系",
    "投资理财十年，带你财富自由，ｗｅｉｘｉｎ 详聊",
    "单身，喜欢旅行，这里不常上，加微 信",
];
pub const SCAM_BIOS_ADAPTIVE: [&str; 4] = [
    "jin rong fen xi shi｜dai dan｜w x 了解",
    "温柔体贴，寻找真心人，ⓥ 联系",
    "li cai 十年，带你cai fu zi you，wеixin 详聊",
    "单身，喜欢旅行，这里不常上，jia v",
];

/// Syllables for generated nicknames ("Luvami", "Kosare").
pub const SYLLABLES: [&str; 16] =
    ["lu", "va", "mi", "ko", "sa", "re", "ti", "na", "zo", "ke", "ri", "mo", "ha", "yu", "shi", "pe"];
/// Chinese name fragments used by templated accounts ("小美8821").
pub const TEMPLATE_CHINESE: [&str; 8] = ["小美", "甜甜", "佳佳", "思思", "婷婷", "悦悦", "宝贝", "可可"];
pub const TEMPLATE_BIOS: [&str; 6] = [
    "爱生活爱自己",
    "喜欢旅行和美食，真诚交友",
    "90后，单身，寻找有缘人",
    "Hi~ nice to meet you",
    "每天开心最重要",
    "随缘",
];

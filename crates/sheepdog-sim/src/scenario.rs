//! The scenario file: a TOML description of one simulated week (start, length, the honest
//! population and its traps, one table per black-market campaign). Unknown keys are errors that
//! name the key; absent campaign tables mean "disabled".

use serde::Deserialize;

/// The built-in scenario, documented key by key.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");
/// The built-in scenario with every campaign adaptive.
pub const ADAPTIVE_SCENARIO: &str = include_str!("../scenarios/adaptive.toml");

/// Errors reading a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
}

fn invalid(field: &'static str, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid { field, message: message.into() }
}

/// One scenario, validated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub version: u32,
    /// RFC 3339 start time.
    pub start: String,
    /// Length of the run in days.
    pub days: u32,
    /// Seed when the command line gives none.
    #[serde(default = "one")]
    pub seed: u64,
    #[serde(default)]
    pub population: Population,
    #[serde(default)]
    pub promo: Promo,
    #[serde(default)]
    pub cat_pool: CatPool,
    #[serde(default)]
    pub code_platform: CodePlatform,
    #[serde(default)]
    pub reg_bot: RegBot,
    #[serde(default)]
    pub profile_template: ProfileTemplate,
    #[serde(default)]
    pub low_and_slow: LowAndSlow,
    #[serde(default)]
    pub account_resale: AccountResale,
    #[serde(default)]
    pub wool_party: WoolParty,
    #[serde(default)]
    pub scam_content: ScamContent,
    #[serde(default)]
    pub sms_pumping: SmsPumping,
    /// Start as epoch ms (filled by `parse`).
    #[serde(skip)]
    pub start_ms: i64,
}

fn one() -> u64 {
    1
}

/// The honest population and the share of each "hard" trap in it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Population {
    pub users: u32,
    pub new_user_share: f64,
    pub logins_per_day: f64,
    pub content_per_day: f64,
    pub profile_updates_per_week: f64,
    pub password_reset_share: f64,
    pub promo_claim_share: f64,
    pub mvno_share: f64,
    pub international_share: f64,
    pub family_share: f64,
    pub campus_share: f64,
    pub cgnat_share: f64,
    pub traveller_share: f64,
    pub phone_change_share: f64,
    pub code_talk_share: f64,
}

impl Default for Population {
    fn default() -> Self {
        Population {
            users: 1000,
            new_user_share: 0.3,
            logins_per_day: 0.8,
            content_per_day: 0.1,
            profile_updates_per_week: 0.3,
            password_reset_share: 0.02,
            promo_claim_share: 0.15,
            mvno_share: 0.04,
            international_share: 0.04,
            family_share: 0.03,
            campus_share: 0.06,
            cgnat_share: 0.1,
            traveller_share: 0.02,
            phone_change_share: 0.02,
            code_talk_share: 0.01,
        }
    }
}

/// The new-user promotion that honest users and the wool party both claim.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Promo {
    pub campaign_id: String,
    pub start_hour: u32,
}

impl Default for Promo {
    fn default() -> Self {
        Promo { campaign_id: "double11-newcomer".into(), start_hour: 60 }
    }
}

macro_rules! campaign {
    ($(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty = $default:expr),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            pub enabled: bool,
            pub adaptive: bool,
            $(pub $field: $ty,)*
        }
        impl Default for $name {
            fn default() -> Self {
                $name { enabled: false, adaptive: false, $($field: $default,)* }
            }
        }
    };
}

campaign!(
    /// Multi-SIM modem hosts registering batches of IoT / data-only / MVNO cards.
    CatPool { hosts: u32 = 4, sims_per_host: u32 = 150, gap_secs: u32 = 40, ips_per_host: u32 = 1 }
);
campaign!(
    /// A code-receiving platform renting numbers to registrars.
    CodePlatform { numbers: u32 = 50, accounts_per_number: u32 = 6, buyers: u32 = 30, rebind_share: f64 = 0.2 }
);
campaign!(
    /// Emulator / cloud-phone registration bots with device-ID resets.
    RegBot { fingerprints: u32 = 8, registrations: u32 = 600, burst_size: u32 = 40 }
);
campaign!(
    /// Batches of accounts with templated profiles.
    ProfileTemplate { batches: u32 = 10, batch_size: u32 = 40 }
);
campaign!(
    /// Registrations kept under per-hour thresholds, sharing blocks and hardware over days.
    LowAndSlow { registrations_per_day: u32 = 20, fingerprints: u32 = 10, blocks: u32 = 6 }
);
campaign!(
    /// Accounts registered, aged, then taken over by buyers.
    AccountResale { accounts: u32 = 150, buyers: u32 = 8, idle_days: u32 = 3 }
);
campaign!(
    /// Fresh accounts claiming the promotion seconds after it starts.
    WoolParty { accounts: u32 = 300, fingerprints: u32 = 6 }
);
campaign!(
    /// Romance / investment scam accounts posting scripts with contact diversion.
    ScamContent { accounts: u32 = 50, posts_per_account: u32 = 12 }
);
campaign!(
    /// SMS pumping (toll fraud): code requests to premium / international blocks.
    SmsPumping { bursts: u32 = 20, numbers_per_burst: u32 = 60, requests_per_number: u32 = 3 }
);

/// Campaign names, in the order they are generated (also the truth file's names).
pub const CAMPAIGNS: [&str; 9] = [
    "cat_pool",
    "code_platform",
    "reg_bot",
    "profile_template",
    "low_and_slow",
    "account_resale",
    "wool_party",
    "scam_content",
    "sms_pumping",
];

/// Honest population traps (the truth file's `population` values).
pub const POPULATIONS: [&str; 9] =
    ["ordinary", "mvno", "international", "family", "campus", "cgnat", "traveller", "phone_change", "code_talk"];

impl Scenario {
    /// Parses and validates a scenario.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let mut s: Scenario = toml::from_str(text)?;
        if s.version != 1 {
            return Err(invalid("version", format!("unsupported version {}; expected 1", s.version)));
        }
        let start = time::OffsetDateTime::parse(&s.start, &time::format_description::well_known::Rfc3339)
            .map_err(|e| invalid("start", format!("not an RFC 3339 time: {e}")))?;
        s.start_ms = (start.unix_timestamp_nanos() / 1_000_000) as i64;
        if !(1..=60).contains(&s.days) {
            return Err(invalid("days", "must be between 1 and 60"));
        }
        let p = &s.population;
        if p.users > 2_000_000 {
            return Err(invalid("population.users", "at most 2000000"));
        }
        let shares = [
            ("population.new_user_share", p.new_user_share),
            ("population.password_reset_share", p.password_reset_share),
            ("population.promo_claim_share", p.promo_claim_share),
            ("population.mvno_share", p.mvno_share),
            ("population.international_share", p.international_share),
            ("population.family_share", p.family_share),
            ("population.campus_share", p.campus_share),
            ("population.cgnat_share", p.cgnat_share),
            ("population.traveller_share", p.traveller_share),
            ("population.phone_change_share", p.phone_change_share),
            ("population.code_talk_share", p.code_talk_share),
            ("code_platform.rebind_share", s.code_platform.rebind_share),
        ];
        for (name, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(invalid(name, format!("{v} is not a share between 0 and 1")));
            }
        }
        let traps = p.mvno_share
            + p.international_share
            + p.family_share
            + p.campus_share
            + p.cgnat_share
            + p.traveller_share
            + p.phone_change_share
            + p.code_talk_share;
        if traps > 1.0 {
            return Err(invalid("population", format!("the trap shares add up to {traps:.2}, more than 1")));
        }
        for (name, v) in [
            ("population.logins_per_day", p.logins_per_day),
            ("population.content_per_day", p.content_per_day),
            ("population.profile_updates_per_week", p.profile_updates_per_week),
        ] {
            if !(0.0..=50.0).contains(&v) {
                return Err(invalid(name, format!("{v} is out of range 0..50")));
            }
        }
        if s.promo.start_hour >= s.days * 24 {
            return Err(invalid("promo.start_hour", "must fall inside the run"));
        }
        // Sizes: keep one run's memory bounded (every product below is an event count).
        let sizes: [(&'static str, u64); 9] = [
            ("cat_pool", u64::from(s.cat_pool.hosts) * u64::from(s.cat_pool.sims_per_host)),
            ("code_platform", u64::from(s.code_platform.numbers) * u64::from(s.code_platform.accounts_per_number)),
            ("reg_bot", u64::from(s.reg_bot.registrations)),
            ("profile_template", u64::from(s.profile_template.batches) * u64::from(s.profile_template.batch_size)),
            ("low_and_slow", u64::from(s.low_and_slow.registrations_per_day) * u64::from(s.days)),
            ("account_resale", u64::from(s.account_resale.accounts)),
            ("wool_party", u64::from(s.wool_party.accounts)),
            ("scam_content", u64::from(s.scam_content.accounts) * u64::from(s.scam_content.posts_per_account)),
            (
                "sms_pumping",
                u64::from(s.sms_pumping.bursts)
                    * u64::from(s.sms_pumping.numbers_per_burst)
                    * u64::from(s.sms_pumping.requests_per_number),
            ),
        ];
        for (name, n) in sizes {
            if n > 2_000_000 {
                return Err(invalid(name, format!("{n} accounts or requests; at most 2000000")));
            }
        }
        let nonzero = [
            ("cat_pool.hosts", s.cat_pool.hosts),
            ("cat_pool.ips_per_host", s.cat_pool.ips_per_host),
            ("cat_pool.gap_secs", s.cat_pool.gap_secs),
            ("code_platform.buyers", s.code_platform.buyers),
            ("reg_bot.fingerprints", s.reg_bot.fingerprints),
            ("reg_bot.burst_size", s.reg_bot.burst_size),
            ("low_and_slow.fingerprints", s.low_and_slow.fingerprints),
            ("low_and_slow.blocks", s.low_and_slow.blocks),
            ("account_resale.buyers", s.account_resale.buyers),
            ("wool_party.fingerprints", s.wool_party.fingerprints),
        ];
        for (name, v) in nonzero {
            if v == 0 {
                return Err(invalid(name, "must be at least 1"));
            }
        }
        if s.account_resale.idle_days + 1 >= s.days && s.account_resale.enabled {
            return Err(invalid("account_resale.idle_days", "accounts must age and be taken over inside the run"));
        }
        Ok(s)
    }

    /// Whether a campaign (by its truth name) is enabled, and adaptive.
    pub fn campaign(&self, name: &str) -> Option<(bool, bool)> {
        Some(match name {
            "cat_pool" => (self.cat_pool.enabled, self.cat_pool.adaptive),
            "code_platform" => (self.code_platform.enabled, self.code_platform.adaptive),
            "reg_bot" => (self.reg_bot.enabled, self.reg_bot.adaptive),
            "profile_template" => (self.profile_template.enabled, self.profile_template.adaptive),
            "low_and_slow" => (self.low_and_slow.enabled, self.low_and_slow.adaptive),
            "account_resale" => (self.account_resale.enabled, self.account_resale.adaptive),
            "wool_party" => (self.wool_party.enabled, self.wool_party.adaptive),
            "scam_content" => (self.scam_content.enabled, self.scam_content.adaptive),
            "sms_pumping" => (self.sms_pumping.enabled, self.sms_pumping.adaptive),
            _ => return None,
        })
    }
}

#!/usr/bin/env python3
# Which signal buys what: runs `sheepdog eval` on the default and adaptive scenarios with each
# built-in rule disabled in turn (a settings file with `[rules.<id>] enabled = false`) and prints
# the change in stopped rates and honest friction as a Markdown table, then a second table: the
# friction of each honest trap population's registrations with each rule off.
# Run from the repository root after `cargo build --release -p sheepdog`: python3 docs/eval/ablate.py
import json, subprocess, tempfile, os
rules = ["device_many_phones","device_id_reset","device_registration_burst","phone_block_burst","phone_sms_burst","device_many_registrations","ip_many_accounts","ip_registration_burst","phone_block_sequential","phone_block_low_conversion","ip_low_conversion","session_code_relay_timing","session_scripted_timing","phone_rebound","account_many_phones","profile_avatar_reuse","profile_bio_reuse","profile_nickname_template","account_ownership_change","device_account_takeover","promo_new_account","promo_device_claims","promo_network_claims","promo_block_claims","promo_campaign_rush","identity_many_accounts","device_many_identities"]
def run(policy, scenario):
    args=["./target/release/sheepdog","eval","--json","--scenario",scenario]
    if policy:
        f=tempfile.NamedTemporaryFile("w",suffix=".toml",delete=False); f.write(policy); f.close(); args+=["--policy",f.name]
    d=json.loads(subprocess.run(args,capture_output=True,text=True).stdout)
    camps={c["name"] if "name" in c else c.get("campaign"): c for c in d["campaigns"]} if isinstance(d["campaigns"],list) else d["campaigns"]
    return d
def summ(d):
    camps={c["name"]:c["total"]["stopped_rate"] for c in d["campaigns"]}
    traps={p["name"]:p["by_type"].get("registration",{}).get("stopped_rate",0.0) for p in d["honest"]["populations"]}
    return dict(traps=traps, bad=d["bad_total"]["stopped_rate"], reg=d["precision_recall"]["stopped"]["registrations"]["recall"],
                fr=d["honest"]["total"]["stopped_rate"], regfr=d["honest"]["registrations"]["stopped_rate"],
                regblk=d["honest"]["registrations"]["blocked_rate"], camps=camps)
B={s:summ(run(None,s)) for s in ["default","adaptive"]}
print("| signal off | stopped (default) | Δ | registrations stopped Δ | biggest campaign Δ | adaptive stopped Δ | honest friction Δ | honest reg. friction Δ |")
print("|---|---|---|---|---|---|---|---|")
print(f"| (none: all on) | {B['default']['bad']*100:.1f}% | | | | {B['adaptive']['bad']*100:.1f}% | {B['default']['fr']*100:.2f}% | {B['default']['regfr']*100:.2f}% |")
T={}
for r in rules:
    pol=f"version = 1\n[rules.{r}]\nenabled = false\n"
    D=summ(run(pol,"default")); A=summ(run(pol,"adaptive"))
    T[r]=D["traps"]
    b=B['default']
    dc=min(((D['camps'][k]-b['camps'][k]),k) for k in b['camps'])
    print(f"| `{r}` | {D['bad']*100:.1f}% | {(D['bad']-b['bad'])*100:+.1f} | {(D['reg']-b['reg'])*100:+.1f} | {dc[1]} {dc[0]*100:+.1f} | {(A['bad']-B['adaptive']['bad'])*100:+.1f} | {(D['fr']-b['fr'])*100:+.2f} | {(D['regfr']-b['regfr'])*100:+.2f} |")
traps=[k for k in B["default"]["traps"] if k!="ordinary"]
print()
print("Honest registrations challenged or worse, per trap population, with each rule off (percentage points against all on):")
print()
print("| signal off | "+" | ".join(traps)+" |")
print("|---|"+"---|"*len(traps))
print("| (none: all on) | "+" | ".join(f"{B['default']['traps'][t]*100:.1f}%" for t in traps)+" |")
for r in rules:
    print(f"| `{r}` | "+" | ".join(f"{(T[r][t]-B['default']['traps'][t])*100:+.1f}" for t in traps)+" |")

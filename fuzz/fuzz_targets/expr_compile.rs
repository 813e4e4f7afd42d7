//! Fuzzes the rule-expression compiler: no source may panic or overflow the stack in `compile`
//! or in evaluation; every diagnostic is 1-based and inside the source; what compiles evaluates
//! the same through `eval`, `eval_bool` and `eval_f64` on a fixed event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sheepdog_expr::{compile, Output, Schema, Type, Value};

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    let mut schema = Schema::new();
    schema.declare("features.regs_per_fp_1h", Type::Int);
    schema.declare("features.amount", Type::Double);
    schema.declare("phone.segment", Type::String);
    schema.declare("ip.datacenter", Type::Bool);
    schema.declare("lists.vip", Type::StringList);
    let vip = ["a", "iot"];
    let event = [Value::Int(3), Value::Absent, Value::Str("iot"), Value::Bool(true), Value::StrList(&vip)];
    let n_lines = src.split('\n').count() as u32;
    for ty in [Type::Bool, Type::Int, Type::Double, Type::String] {
        match compile(&src, &schema, ty) {
            Ok(program) => {
                let out = program.eval(&event);
                match out {
                    Output::Bool(b) => assert_eq!(program.eval_bool(&event), Some(b)),
                    Output::Int(i) => assert_eq!(program.eval_f64(&event), Some(i as f64)),
                    Output::Absent if ty == Type::Bool => assert_eq!(program.eval_bool(&event), None),
                    _ => {}
                }
                assert!(program.slots().windows(2).all(|w| w[0] < w[1]));
            }
            Err(diags) => {
                assert!(!diags.is_empty());
                for d in diags {
                    assert!(d.line >= 1 && d.line <= n_lines && d.column >= 1, "{d}");
                }
            }
        }
    }
});

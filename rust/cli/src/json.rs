//! One-line JSON objects with their fields in a fixed, documented order
//! (serde_json's map would sort them).

use serde_json::Value;

/// `{"k1":v1,"k2":v2,…}` in the order given.
pub fn object(fields: &[(&str, Value)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(key, value)| format!("{}:{value}", Value::from(*key)))
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn keeps_field_order_and_escapes() {
        let text = super::object(&[("z", json!(1)), ("a", json!("q\"x"))]);
        assert_eq!(text, r#"{"z":1,"a":"q\"x"}"#);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["a"], "q\"x");
    }
}

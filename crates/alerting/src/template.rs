//! Notification messages: `{{name}}` placeholders replaced by the transition's values.

use std::collections::BTreeMap;

/// Replaces each `{{name}}` (spaces inside the braces allowed) by `vars[name]`; unknown names
/// are left as written, so a typo shows in the message instead of vanishing.
pub fn render(template: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = after[..close].trim();
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[open..open + 2 + close + 2]),
                }
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let vars = BTreeMap::from([("rule", "errors".to_owned()), ("value", "12".to_owned())]);
        assert_eq!(render("{{rule}}: {{ value }} > {{threshold}} {{", &vars), "errors: 12 > {{threshold}} {{");
        assert_eq!(render("日志 {{rule}}", &vars), "日志 errors");
    }
}

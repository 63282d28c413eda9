//! The web console end to end in real Chromium: starts a standalone NexusLog, then runs the
//! Playwright scenario `web/e2e/console.e2e.mjs` against it: sign-in, ingest, Explore with a
//! boolean and range query, histogram drag-zoom, live tail, API keys, audit log and invitations,
//! 简体中文, a viewer's read-only view, a saved search, a dashboard with all five widget types
//! checked against the events sent, an alert rule that fires, a pipeline edited with its dry run,
//! and the budgets (Explore's first-load JavaScript, 10 000 rows painted within 1 s). Screenshots
//! of each step go to `<CARGO_TARGET_TMPDIR>/console-screenshots`; any browser console error
//! fails it.
//!
//! Needs `web/dist` (`bash scripts/web-build.sh`), Node with `web/node_modules`, and Chromium at
//! `/usr/bin/chromium` (`bash scripts/browser-deps.sh`); `scripts/test.sh` prepares all three.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const ADMIN_PASSWORD: &str = "admin password for console tests";

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../web")
}

/// Fails with what to run when something the scenario needs is missing.
fn check_prerequisites(web: &Path) {
    assert!(web.join("dist/index.html").is_file(), "web/dist is missing: run `bash scripts/web-build.sh` first (scripts/test.sh does)");
    assert!(
        web.join("node_modules/playwright-core").is_dir(),
        "web/node_modules/playwright-core is missing: run `bash scripts/web-build.sh` (npm ci in web/)"
    );
    assert!(Path::new("/usr/bin/chromium").is_file(), "/usr/bin/chromium is missing: run `bash scripts/browser-deps.sh`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_chromium() {
    let web = web_dir();
    check_prerequisites(&web);
    let dir = tempfile::tempdir().expect("tempdir");
    let env = support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD);
    let key = support::test_key();
    let node = support::start(&[], env, &key).await;

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).expect("screenshots folder");

    let started = Instant::now();
    let url = node.url.clone();
    let ingest_key = node.api_key.clone();
    let shots_env = shots.clone();
    let web_cwd = web.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("e2e/console.e2e.mjs")
            .current_dir(&web_cwd)
            .env("NEXUSLOG_URL", &url)
            .env("NEXUSLOG_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("NEXUSLOG_INGEST_KEY", &ingest_key)
            .env("NEXUSLOG_SCREENSHOTS", &shots_env)
            .output()
    })
    .await
    .expect("join")
    .expect("run node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let server_log = std::fs::read_to_string(&node.log).unwrap_or_default();
        let tail: Vec<&str> = server_log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        panic!(
            "the console scenario failed ({}) after {:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- server log (last lines, {}) ---\n{}\nscreenshots: {}",
            output.status,
            started.elapsed(),
            node.log.display(),
            tail.join("\n"),
            shots.display()
        );
    }
    eprintln!("{stdout}");
    eprintln!("console scenario passed in {:?}; screenshots in {}", started.elapsed(), shots.display());
}

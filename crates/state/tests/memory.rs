//! The state conformance suite on the in-process implementation.

#[tokio::test]
async fn memory_state_conforms() {
    let store = nexuslog_state::MemoryState::new();
    nexuslog_state::conformance::run_all(&store, "memory").await;
}

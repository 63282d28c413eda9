pub async fn bench(_a: BenchArgs) -> anyhow::Result<bool> { Ok(true) }
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

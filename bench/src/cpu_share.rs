//! A function's CPU, as Lambda gives it: in proportion to its memory, one
//! vCPU at 1,769 MB (0.145 of one at 256 MB). Enforced here with a CFS
//! bandwidth quota on a cgroup of its own, which the measured process joins
//! before it executes (cgroup v1's `cpu` controller or v2's `cpu.max`).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

/// Lambda's memory for one full vCPU.
const MB_PER_VCPU: f64 = 1769.0;

/// One memory size's CPU share, with the cgroup that enforces it (removed
/// on drop).
#[derive(Debug, Serialize)]
pub struct CpuShare {
    pub memory_mb: u32,
    pub period_us: u64,
    pub quota_us: u64,
    #[serde(skip)]
    procs: PathBuf,
    #[serde(skip)]
    dir: PathBuf,
}

impl CpuShare {
    /// The share of a function with `memory_mb`, each `period_us` of CPU
    /// time allowing `period_us × memory / 1769` of it. Needs root (or a
    /// delegated cgroup).
    pub fn for_memory(memory_mb: u32, period_us: u64) -> anyhow::Result<Self> {
        let quota_us = quota_us(memory_mb, period_us);
        let name = format!("conduit-bench-{}-{memory_mb}mb", std::process::id());
        let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let dir = if v2 {
            Path::new("/sys/fs/cgroup").join(&name)
        } else {
            Path::new("/sys/fs/cgroup/cpu").join(&name)
        };
        std::fs::create_dir_all(&dir).with_context(|| {
            format!(
                "creating the cgroup {} (the CPU-share runs need root)",
                dir.display()
            )
        })?;
        let write = |file: &str, value: String| {
            std::fs::write(dir.join(file), value)
                .with_context(|| format!("writing {}", dir.join(file).display()))
        };
        if v2 {
            write("cpu.max", format!("{quota_us} {period_us}"))?;
        } else {
            write("cpu.cfs_period_us", period_us.to_string())?;
            write("cpu.cfs_quota_us", quota_us.to_string())?;
        }
        let procs = dir.join("cgroup.procs");
        if !procs.exists() {
            bail!("{} has no cgroup.procs", dir.display());
        }
        Ok(Self {
            memory_mb,
            period_us,
            quota_us,
            procs,
            dir,
        })
    }

    /// The fraction of one CPU.
    pub fn vcpu(&self) -> f64 {
        self.quota_us as f64 / self.period_us as f64
    }

    /// Opened in the parent, so that the child can join the cgroup between
    /// fork and exec without allocating: see [`join`].
    pub fn procs_file(&self) -> anyhow::Result<File> {
        File::options()
            .write(true)
            .open(&self.procs)
            .with_context(|| format!("opening {}", self.procs.display()))
    }
}

/// The CPU time a function with `memory_mb` gets in each `period_us`.
fn quota_us(memory_mb: u32, period_us: u64) -> u64 {
    (period_us as f64 * f64::from(memory_mb) / MB_PER_VCPU).round() as u64
}

/// Moves the calling process into the cgroup whose `cgroup.procs` is open
/// as `procs` ("0" names the writer). Runs in the child between fork and
/// exec, where only async-signal-safe work is allowed: one write(2).
pub fn join(procs: &File) -> std::io::Result<()> {
    let mut procs = procs;
    procs.write_all(b"0")
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        // Fails while a process is still inside; every run reaps its child.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_share_grows_with_memory() {
        assert_eq!(super::quota_us(1769, 100_000), 100_000);
        assert_eq!(super::quota_us(256, 100_000), 14_471);
        assert_eq!(super::quota_us(128, 20_000), 1_447);
    }
}

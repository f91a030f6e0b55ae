//! CPU and memory of a process, or of one of its threads, read from /proc (Linux). `None` where
//! /proc is not there or does not have the process: figures are left out, never made up.

/// Resident memory of process `pid` (`"self"` for this one), in kB.
pub fn rss_kb(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds from a `stat` file (a process's or a thread's).
fn stat_cpu_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| ticks / hz as f64)
}

/// CPU seconds process `pid` has used (`"self"` for this one).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    stat_cpu_seconds(&format!("/proc/{pid}/stat"))
}

/// CPU seconds the thread of process `pid` named `name` has used (`plexus-engine`, say).
pub fn thread_cpu_seconds(pid: &str, name: &str) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    for task in tasks.flatten() {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            return stat_cpu_seconds(&dir.join("stat").to_string_lossy());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_memory_and_cpu_and_a_named_thread_is_found() {
        assert!(super::rss_kb("self").is_some_and(|kb| kb > 0));
        let spin = std::thread::Builder::new()
            .name("procfs-probe".into())
            .spawn(|| {
                let start = std::time::Instant::now();
                let mut x = 0u64;
                while start.elapsed() < std::time::Duration::from_millis(60) {
                    x = x.wrapping_add(1);
                }
                std::hint::black_box(x);
                std::thread::sleep(std::time::Duration::from_millis(200));
            })
            .expect("thread");
        std::thread::sleep(std::time::Duration::from_millis(100));
        let seconds = super::thread_cpu_seconds("self", "procfs-probe");
        spin.join().expect("joins");
        assert!(seconds.is_some(), "the named thread is found");
        assert!(super::cpu_seconds("self").is_some());
        assert_eq!(super::thread_cpu_seconds("self", "no-such-thread"), None);
    }
}

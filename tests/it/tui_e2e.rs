//! End to end: the real binary in tmux. Start on a fresh data dir with a crash-looping neuron,
//! move, open help, filter, recover that neuron through the confirm dialog, see the command in
//! the audit view, quit, and check the terminal was given back (alternate screen left, the
//! shell's next line printed). Skips with a message when tmux is not installed. Bounded: every
//! wait has a deadline and the tmux server is killed on the way out.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "e2e", k]);
        }
    }

    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "e2e", "-l", text]);
    }

    /// Waits until `check` holds on the screen; panics with the screen after `limit`.
    fn wait(&self, what: &str, limit: Duration, check: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            if start.elapsed() > limit {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, needle: &str, limit: Duration) -> String {
        self.wait(needle, limit, |s| s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The console in a fresh tmux server on `socket`, `width`×`height`: `script` gets the command
/// that starts it on its own data and config dirs (`env … plexus --data-dir D`) and returns the
/// shell script the pane runs. The dirs live as long as the returned guard.
fn console_in_tmux(
    socket: String,
    width: u16,
    height: u16,
    script: impl FnOnce(&str) -> String,
) -> (Tmux, [tempfile::TempDir; 2]) {
    let data = tempfile::tempdir().expect("data dir");
    let config = tempfile::tempdir().expect("config dir");
    let tmux = Tmux { socket };
    let plexus = format!(
        "env PLEXUS_CONFIG_DIR={} TERM=xterm-256color {} --data-dir {}",
        config.path().display(),
        env!("CARGO_BIN_EXE_plexus"),
        data.path().display(),
    );
    let (w, h) = (width.to_string(), height.to_string());
    let out = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        &w,
        "-y",
        &h,
        "sh",
        "-c",
        &script(&plexus),
    ]);
    assert!(
        out.status.success(),
        "tmux: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (tmux, [data, config])
}

fn row<'a>(screen: &'a str, id: &str) -> &'a str {
    screen.lines().find(|l| l.contains(id)).unwrap_or("")
}

#[test]
fn drive_the_console_in_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    let started = Instant::now();
    let (tmux, _dirs) = console_in_tmux(
        format!("plexus-e2e-{}", std::process::id()),
        120,
        36,
        |plexus| {
            format!(
                "{plexus} --neurons 6 --heartbeat-ms 500 --fault n-0002=crash-loop; echo EXIT=$?; sleep 60"
            )
        },
    );
    let long = Duration::from_secs(10);
    let short = Duration::from_secs(4);

    // Start: the table with all six neurons, the cursor on the first.
    tmux.wait("the table", long, |s| {
        s.contains("n-0006") && s.contains("> n-0001")
    });
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "e2e", "#{alternate_on}"])
            .stdout,
        b"1\n",
        "the console runs on the alternate screen"
    );

    // Move.
    tmux.keys(&["j"]);
    tmux.wait("the cursor on n-0002", short, |s| s.contains("> n-0002"));

    // Help, then close it.
    tmux.keys(&["?"]);
    tmux.wait_for("Force recovery of the selected neuron", short);
    tmux.keys(&["Escape"]);
    tmux.wait("help closed", short, |s| {
        !s.contains("Force recovery of the selected")
    });

    // Filter down to two neurons; the cursor stays on n-0002.
    tmux.keys(&["/"]);
    tmux.type_text("n-000[23]");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait("the filter", short, |s| {
        s.contains("/n-000[23]") && !s.contains("n-0004")
    });
    assert!(row(&screen, "n-0002").contains("> n-0002"), "{screen}");

    // n-0002 crash-loops: wait until the console shows it failing, then recover it by hand.
    tmux.wait("n-0002 failing", long, |s| {
        let r = row(s, "> n-0002");
        ["suspect", "offline", "recovering"]
            .iter()
            .any(|st| r.contains(st))
    });
    tmux.keys(&["r"]);
    let dialog = tmux.wait_for("Recover neuron", short);
    assert!(dialog.contains("Touches 1 neuron"), "{dialog}");
    assert!(dialog.contains("[ Cancel ]"), "opens on Cancel: {dialog}");
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait("the command's answer", long, |s| {
        s.contains("started on n-0002") || s.contains("neuron.recover n-0002 failed")
    });

    // The gate recorded it: the audit view shows the recover of n-0002.
    tmux.keys(&["a"]);
    tmux.wait("the audit record", long, |s| {
        s.lines()
            .any(|l| l.contains("neuron.rec") && l.contains("n-0002"))
    });

    // Quit: the shell gets the terminal back.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXIT=0", short);
    assert!(
        !screen.contains("PLEXUS"),
        "the console's screen is gone:\n{screen}"
    );
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "e2e", "#{alternate_on}"])
            .stdout,
        b"0\n",
        "alternate screen left"
    );
    let elapsed = started.elapsed();
    eprintln!("e2e took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(40), "took {elapsed:?}");
}

/// SIGTERM and SIGHUP end the console like `q`: the terminal is given back (main screen, cooked
/// mode) and the exit status is 0.
#[test]
fn a_terminating_signal_restores_the_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    for signal in ["TERM", "HUP"] {
        let socket = format!("plexus-sig-{}-{signal}", std::process::id());
        let (tmux, _dirs) = console_in_tmux(socket, 100, 30, |plexus| {
            format!(
                "{plexus} --neurons 3 & pid=$!; sleep 3; kill -{signal} $pid; wait $pid; echo EXIT=$?; stty -a | grep -o -- '-\\?icanon'; sleep 60"
            )
        });
        let screen = tmux.wait_for("EXIT=", Duration::from_secs(20));
        assert!(screen.contains("EXIT=0"), "SIG{signal}: {screen}");
        let screen = tmux.wait("the tty mode", Duration::from_secs(5), |s| {
            s.contains("icanon")
        });
        assert!(
            screen.lines().any(|l| l.trim() == "icanon"),
            "SIG{signal}: canonical mode restored: {screen}"
        );
        let alternate = tmux.run(&["display", "-p", "-t", "e2e", "#{alternate_on}"]);
        assert_eq!(
            String::from_utf8_lossy(&alternate.stdout).trim(),
            "0",
            "SIG{signal}: alternate screen left"
        );
    }
}

/// `plexus chaos run` on a terminal prints its report as text: no Markdown syntax on screen.
#[test]
fn chaos_run_prints_text_on_a_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    let socket = format!("plexus-chaos-text-{}", std::process::id());
    let (tmux, dirs) = console_in_tmux(socket, 160, 40, |plexus| {
        format!("{plexus} --virtual-time chaos run single-crash; echo RUN-ENDED; sleep 30")
    });
    let _ = &dirs;
    let screen = tmux.wait_for("RUN-ENDED", Duration::from_secs(30));
    assert!(screen.contains("Single crash\n============"), "{screen}");
    assert!(screen.contains("HealthyShare >= 0.95"), "{screen}");
    for syntax in ["# ", "| ", "**", "|---"] {
        assert!(!screen.contains(syntax), "{syntax:?} on screen:\n{screen}");
    }
}

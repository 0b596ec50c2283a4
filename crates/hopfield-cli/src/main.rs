//! `hopfield`: associative memories from the command line. Parse → validate → run; errors are
//! printed once with their cause chain and the process exits non-zero.

/// The tensor code allocates and frees many large buffers per step; glibc returns those to the
/// kernel and faults them back in every time (≈ 300k page faults in `et bench`), mimalloc keeps
/// most of them (≈ 45k): the forward pass is ≈ 30% faster.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod capacity;
mod common;
mod dam;
mod data;
mod demo;
mod et;
mod graph;
mod ham;
mod mil;
mod recall;
mod runs;
mod sweep;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use hopfield_data::source::default_data_dir;

use crate::common::{DeviceArg, MemoryArg};

/// `hopfield --version`: the version and whether this binary can use a GPU.
#[cfg(feature = "cuda")]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (CUDA: yes, kernels compiled by NVRTC, CUDA 13.0 API)");
#[cfg(not(feature = "cuda"))]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (CUDA: no, CPU only)");

/// Associative memories (classical, dense and modern Hopfield networks) on real data.
#[derive(Parser, Debug)]
#[command(
    name = "hopfield",
    version = VERSION,
    about = "Associative memories on real data: classical, dense (polynomial, rectified, exponential) and \
             modern Hopfield networks. Start with `hopfield demo`.",
    long_about = None
)]
pub struct Cli {
    /// Folder holding full data sets (mnist/, fashion-mnist/, cifar10/); used by --data mnist etc.
    /// Defaults to $XDG_CACHE_HOME/hopfield or ~/.cache/hopfield.
    #[arg(long, global = true, env = "HOPFIELD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where tensors are computed: cpu, cuda (GPU 0) or cuda:N. A GPU needs a build with
    /// `--features cuda`.
    #[arg(long, global = true)]
    pub device: Option<DeviceArg>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Store K images, corrupt cues, retrieve them; write a picture grid, an energy plot and a CSV.
    Recall(recall::RecallArgs),
    /// Sweep the load K on random ±1 patterns; measure flip probability and retrieval against theory.
    Capacity(capacity::CapacityArgs),
    /// The main job for a new user: recall on real digits (classical vs dense) and the capacity plots.
    Demo(demo::DemoArgs),
    /// Data sets: download full sets, or describe one.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// The memories of 2023–2025 (sparse transforms, log-sum-ReLU, DrDAM): a sweep per claim, with its CSV and pictures.
    #[command(subcommand)]
    Sweep(sweep::SweepCommand),
    /// Throughput: batched modern-Hopfield retrieval next to a plain GEMM, and binary-memory sweeps.
    Bench(bench::BenchArgs),
    /// The Energy Transformer: masked image reconstruction.
    #[command(subcommand)]
    Et(et::EtCommand),
    /// The Dense Associative Memory classifier (Krotov & Hopfield 2016).
    #[command(subcommand)]
    Dam(dam::DamCommand),
    /// Hierarchical Associative Memories: the two-layer HAM classifier trained through its dynamics.
    #[command(subcommand)]
    Ham(ham::HamCommand),
    /// Hopfield pooling for multiple-instance learning: bags of digits, positive when one is a 9.
    #[command(subcommand)]
    Mil(mil::MilCommand),
    /// The Energy Transformer on graphs: graph classification and node anomaly detection, each beside an MLP.
    #[command(subcommand)]
    Graph(graph::GraphCommand),
}

/// mimalloc's `mi_option_purge_delay` (its position in `mi_option_e`, mimalloc.h v2 and v3;
/// libmimalloc-sys has no constant for it) and its defaults in options.c: 10 ms (v2), 1000 ms (v3).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const PURGE_DELAY_DEFAULTS: [std::os::raw::c_long; 2] = [10, 1000];

/// Keeps freed memory instead of returning it to the OS after the purge delay: a training step frees and
/// re-allocates the same large buffers over and over, and each return costs page faults and the
/// kernel's zeroing (`hopfield et bench`: training step ≈ 12% faster).
fn keep_freed_memory() {
    // SAFETY: reading and setting a mimalloc option has no preconditions; the option is set only
    // if it holds one of the purge delay's defaults, so another option layout is left alone (and
    // so is a value the user set with MIMALLOC_PURGE_DELAY).
    unsafe {
        if PURGE_DELAY_DEFAULTS.contains(&libmimalloc_sys::mi_option_get(PURGE_DELAY)) {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
        }
    }
}

/// Output piped into a reader that stops early (`hopfield … | head`) ends the program quietly, as
/// other command-line tools do, instead of a panic in `println!` on the broken pipe.
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Dispatches a parsed command line.
fn run(cli: Cli) -> Result<()> {
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    // These compute on plain arrays on the CPU, not on burn tensors.
    let cpu_only = match &cli.command {
        Command::Recall(a) if a.memory != MemoryArg::Modern => Some("recall"),
        Command::Capacity(_) => Some("capacity"),
        Command::Sweep(_) => Some("sweep"),
        Command::Dam(_) => Some("dam"),
        _ => None,
    };
    // The main device: --device, or the first of et train's --devices (not both).
    let (one, flag) = match (&cli.command, cli.device) {
        (Command::Et(et::EtCommand::Train(a)), Some(one)) if !a.devices.is_empty() => bail!(
            "--device {one} and --devices {} both given: name every device in --devices (the first is the main \
             one)",
            a.devices.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
        ),
        (Command::Et(et::EtCommand::Train(a)), None) if !a.devices.is_empty() => (a.devices[0], "--devices"),
        (_, one) => (one.unwrap_or(DeviceArg::Cpu), "--device"),
    };
    if let (Some(name), DeviceArg::Cuda(_)) = (cpu_only, one) {
        bail!(
            "`hopfield {name}` computes on the CPU only (its memories are plain arrays, not tensors); \
             --device {} applies to et, mil, graph, demo, bench and recall --memory modern",
            one
        );
    }
    // burn makes some tensors on its default device — a resumed run's optimiser state, before the
    // first step moves it to the parameters' device — and in a CUDA build that default is GPU 0:
    // a CPU run would then need a GPU (and panic where there is none). Point it at the CPU.
    #[cfg(feature = "cuda")]
    if one == DeviceArg::Cpu && std::env::var_os("BURN_DEVICE").is_none() {
        // Still one thread here: nothing else reads the environment concurrently.
        std::env::set_var("BURN_DEVICE", "flex");
    }
    let device = one.device(flag)?;
    // recall and bench compute on host arrays unless a GPU is asked for.
    let gpu = (one != DeviceArg::Cpu).then_some(&device);
    match &cli.command {
        Command::Recall(a) => recall::run(a, &data_dir, gpu),
        Command::Capacity(a) => capacity::run(a),
        Command::Sweep(c) => sweep::run(c, &data_dir),
        Command::Demo(a) => demo::run(a, &data_dir, &device),
        Command::Data(c) => data::run(c, &data_dir),
        Command::Bench(a) => bench::run(a, gpu),
        Command::Et(c) => et::run(c, &data_dir, &device),
        Command::Dam(c) => dam::run(c, &data_dir),
        Command::Mil(c) => mil::run(c, &data_dir, &device),
        Command::Ham(c) => ham::run(c, &data_dir, &device),
        Command::Graph(c) => graph::run(c, &data_dir, &device),
    }
}

fn main() {
    quiet_broken_pipe();
    keep_freed_memory();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        for cause in e.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
}

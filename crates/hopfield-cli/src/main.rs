//! `hopfield`: associative memories from the command line. Parse → validate → run; errors are
//! printed once with their cause chain and the process exits non-zero.

/// The tensor code allocates and frees many large buffers per step; glibc returns those to the
/// kernel and faults them back in every time (≈ 300k page faults in `et bench`), mimalloc keeps
/// most of them (≈ 45k): the forward pass is ≈ 30% faster.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod commands;
mod dam;
mod demo;
mod et;
mod mil;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Associative memories (classical, dense and modern Hopfield networks) on real data.
#[derive(Parser, Debug)]
#[command(
    name = "hopfield",
    version,
    about = "Associative memories on real data: classical, dense (polynomial, rectified, exponential) and \
             modern Hopfield networks. Start with `hopfield demo`.",
    long_about = None
)]
pub struct Cli {
    /// Folder holding full data sets (mnist/, fashion-mnist/, cifar10/); used by --data mnist etc.
    /// Defaults to $XDG_CACHE_HOME/hopfield or ~/.cache/hopfield.
    #[arg(long, global = true, env = "HOPFIELD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Store K images, corrupt cues, retrieve them; write a picture grid, an energy plot and a CSV.
    Recall(RecallArgs),
    /// Sweep the load K on random ±1 patterns; measure flip probability and retrieval against theory.
    Capacity(CapacityArgs),
    /// The main job for a new user: recall on real digits (classical vs dense) and the capacity plots.
    Demo(DemoArgs),
    /// Data sets: download full sets, or describe one.
    #[command(subcommand)]
    Data(DataCommand),
    /// Throughput: batched modern-Hopfield retrieval next to a plain GEMM, and binary-memory sweeps.
    Bench(bench::BenchArgs),
    /// The Energy Transformer: masked image reconstruction.
    #[command(subcommand)]
    Et(et::EtCommand),
    /// The Dense Associative Memory classifier (Krotov & Hopfield 2016).
    #[command(subcommand)]
    Dam(dam::DamCommand),
    /// Hopfield pooling for multiple-instance learning: bags of digits, positive when one is a 9.
    #[command(subcommand)]
    Mil(mil::MilCommand),
}

/// Memory kinds as typed on the command line.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryArg {
    /// Classical Hopfield network, F(x) = x²/2 (Hebbian weights).
    Classical,
    /// Dense Associative Memory, F(x) = xⁿ (degree from --n).
    Poly,
    /// Dense Associative Memory, F(x) = max(x, 0)ⁿ (degree from --n).
    RectPoly,
    /// Dense Associative Memory, F(x) = eˣ.
    Exp,
    /// Continuous modern Hopfield network, ξ ← X softmax(β Xᵀ ξ) (β from --beta).
    Modern,
}

/// Update rules as typed on the command line.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleArg {
    /// Asynchronous: one neuron at a time, in a fresh random order each sweep.
    Async,
    /// Synchronous: every neuron from the same state.
    Sync,
}

/// Flags shared by commands that read a data set.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data set: a built-in name (digits, mnist-sample, cifar10-sample bundled; mnist, fashion-mnist,
    /// cifar10 from --data-dir) or a path to a file or folder (IDX, digits CSV, CIFAR-10 binary, or a
    /// folder of class sub-folders of PNG/JPEG images).
    #[arg(long, default_value = "mnist-sample")]
    pub data: hopfield_data::DataSource,
    /// Which part of the data set: train or test (sets without their own split use 80/20 in file order).
    #[arg(long, default_value = "test")]
    pub split: hopfield_data::Split,
}

#[derive(Args, Debug)]
pub struct RecallArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Memory to store the patterns in.
    #[arg(long, value_enum, default_value = "rect-poly")]
    pub memory: MemoryArg,
    /// Degree n of the poly / rect-poly separation function (n ≥ 2).
    #[arg(long, default_value_t = 30)]
    pub n: u32,
    /// Inverse temperature β of the modern Hopfield network (β > 0).
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    pub beta: f64,
    /// K: how many images (the first K of the split) are stored.
    #[arg(long, default_value_t = 50)]
    pub patterns: usize,
    /// Fraction p of the cue's entries to flip (0 ≤ p ≤ 1). Ignored with --occlude.
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    pub flip: f64,
    /// Occlude the bottom half of each cue instead of flipping entries.
    #[arg(long)]
    pub occlude: bool,
    /// How many stored patterns to query (the first ones); default: all K.
    #[arg(long)]
    pub queries: Option<usize>,
    /// How many examples the picture grid and the energy plot show.
    #[arg(long, default_value_t = 8)]
    pub show: usize,
    /// Update rule of binary memories: async (one neuron at a time, random order; the energy never
    /// rises) or sync (all neurons at once).
    #[arg(long, value_enum, default_value = "async")]
    pub rule: RuleArg,
    /// Upper bound on sweeps (binary memories) or updates (modern).
    #[arg(long, default_value_t = 100)]
    pub max_steps: usize,
    /// Seed of every random choice; the same seed gives the same numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for recall.png, energy.png and recall.csv (created if missing).
    #[arg(long, default_value = "out/recall")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct CapacityArgs {
    /// Memory to sweep (the modern network has no binary capacity sweep).
    #[arg(long, value_enum, default_value = "classical")]
    pub memory: MemoryArg,
    /// Degrees n for poly / rect-poly, comma-separated: one curve each (e.g. 2,3,4).
    #[arg(long, value_delimiter = ',', default_value = "3")]
    pub n: Vec<u32>,
    /// N: neurons per pattern.
    #[arg(long, default_value_t = 200)]
    pub neurons: usize,
    /// Loads K, comma-separated; default: 12 log-spaced loads around each curve's capacity.
    #[arg(long, value_delimiter = ',')]
    pub loads: Option<Vec<usize>>,
    /// Independent random pattern sets per load.
    #[arg(long, default_value_t = 4)]
    pub trials: usize,
    /// Stored patterns probed per set.
    #[arg(long, default_value_t = 25)]
    pub probes: usize,
    /// Seed; the same seed gives the same numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for capacity.csv, capacity.png and retrieval.png (created if missing).
    #[arg(long, default_value = "out/capacity")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Folder for the demo's pictures (created if missing).
    #[arg(long, default_value = "out/demo")]
    pub out: PathBuf,
    /// Seed; the same seed gives the same numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download a full data set into --data-dir, verifying the published MD5 checksums.
    Fetch {
        /// mnist, fashion-mnist or cifar10.
        name: String,
        /// Base URL to download from instead of the published locations (a mirror).
        #[arg(long)]
        mirror: Option<String>,
    },
    /// Load a data set and print its size, shape and class counts.
    Info {
        #[command(flatten)]
        data: DataArgs,
    },
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

fn main() {
    quiet_broken_pipe();
    keep_freed_memory();
    let cli = Cli::parse();
    if let Err(e) = commands::run(cli) {
        eprintln!("error: {e}");
        for cause in e.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
}

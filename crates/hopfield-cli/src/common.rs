//! What the subcommands share: the data-set and memory flags, loading a data set, progress bars,
//! writing a text file, the device. Imports none of the subcommands.

use std::path::Path;

use anyhow::{bail, Result};
use burn::tensor::Device;
use clap::{Args, ValueEnum};
use hopfield::memory::Separation;
use hopfield_data::Dataset;
use indicatif::{ProgressBar, ProgressStyle};

/// Where tensors are computed, as typed: `cpu`, `cuda` (GPU 0) or `cuda:N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceArg {
    /// The CPU (burn's Flex backend, all cores).
    Cpu,
    /// NVIDIA GPU number N (burn's CUDA backend; a build with `--features cuda`).
    Cuda(usize),
}

impl std::str::FromStr for DeviceArg {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "cpu" => Ok(DeviceArg::Cpu),
            "cuda" => Ok(DeviceArg::Cuda(0)),
            _ => match s.strip_prefix("cuda:") {
                Some(n) => n.parse().map(DeviceArg::Cuda).map_err(|_| {
                    format!("`{s}`: the GPU number after `cuda:` must be a whole number (cuda:0, cuda:1, …)")
                }),
                None => Err(format!("`{s}`: expected cpu, cuda or cuda:N")),
            },
        }
    }
}

impl std::fmt::Display for DeviceArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceArg::Cpu => write!(f, "cpu"),
            DeviceArg::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl DeviceArg {
    /// The burn device; `flag` (`--device` or `--devices`) names where it was asked for in errors.
    ///
    /// # Errors
    /// A GPU asked of a build without CUDA support, or a GPU number this machine does not have.
    pub fn device(self, flag: &str) -> Result<Device> {
        match self {
            DeviceArg::Cpu => Ok(Device::flex()),
            DeviceArg::Cuda(index) => cuda(index, flag),
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda(index: usize, flag: &str) -> Result<Device> {
    // cudarc panics when a library it needs is missing, and cubecl when it finds no toolkit: ask
    // each question here first, so a machine without them gets an error naming what is missing.
    let asked = format!("{flag} cuda:{index}");
    if !loadable("cuda") {
        bail!(
            "no CUDA device: the NVIDIA driver library (libcuda.so.1) could not be loaded on this machine: \
             install the NVIDIA driver ({asked})"
        );
    }
    cudarc::driver::result::init()
        .map_err(|e| anyhow::anyhow!("no CUDA device: the NVIDIA driver did not start: {e} ({asked})"))?;
    let count = cudarc::driver::result::device::get_count()
        .map_err(|e| anyhow::anyhow!("no CUDA device: the NVIDIA driver could not count the GPUs: {e} ({asked})"))?;
    let count = usize::try_from(count).unwrap_or(0);
    if count == 0 {
        bail!("no CUDA device: the NVIDIA driver finds no GPU on this machine ({asked})");
    }
    if index >= count {
        bail!(
            "no CUDA device {index}: this machine has {count} ({flag} cuda:0{})",
            if count > 1 { format!(" … cuda:{}", count - 1) } else { String::new() }
        );
    }
    if !loadable("nvrtc") {
        bail!(
            "the CUDA runtime compiler NVRTC (libnvrtc.so.13) could not be loaded: install the CUDA 13 toolkit, \
             or add the folder holding libnvrtc.so.13 (the toolkit's lib64, or a pip wheel's nvidia/cu13/lib) \
             to LD_LIBRARY_PATH ({asked})"
        );
    }
    // The kernels NVRTC compiles include the toolkit's headers (cuda_fp16.h and its kin).
    match cubecl_cuda::install::cuda_path() {
        None => bail!(
            "the CUDA toolkit was not found (looked for $CUDA_PATH, /usr/local/cuda, /opt/cuda, /usr/bin/nvcc): \
             its headers are needed to compile the GPU kernels; install it or set CUDA_PATH ({asked})"
        ),
        Some(path) if !path.join("include").join("cuda_fp16.h").is_file() => bail!(
            "the CUDA toolkit at {} has no include/cuda_fp16.h: its headers are needed to compile the GPU \
             kernels; install them or set CUDA_PATH to a full toolkit ({asked})",
            path.display()
        ),
        Some(_) => {}
    }
    Ok(Device::cuda(index))
}

/// Whether one of the file names cudarc tries for the CUDA library `name` (`cuda`, `nvrtc`) loads.
#[cfg(feature = "cuda")]
fn loadable(name: &str) -> bool {
    cudarc::get_lib_name_candidates(name).iter().any(|file| {
        // SAFETY: loading a system CUDA library runs its initialisers, as cudarc itself does on
        // first use of the same file names; the handle is closed again at once.
        unsafe { libloading::Library::new(file) }.is_ok()
    })
}

#[cfg(not(feature = "cuda"))]
fn cuda(index: usize, flag: &str) -> Result<Device> {
    bail!(
        "{flag} cuda:{index}: this binary was built without CUDA support: rebuild with --features cuda \
         (cargo build --release --features cuda)"
    )
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
    /// The modern network with sparsemax in place of softmax (exact retrieval past a margin).
    Sparsemax,
    /// The modern network with α-entmax (α from --alpha, in [1, 2]).
    Entmax,
    /// The modern network with 2-normmax.
    Normmax,
    /// The log-sum-ReLU (Epanechnikov) memory, kernels of width --width.
    LseRelu,
    /// The random-feature DAM (DrDAM): --features random features of the Gaussian DAM at --beta.
    Drdam,
}

impl MemoryArg {
    /// Whether it is a binary memory (patterns of ±1 spins, a separation function).
    pub fn is_binary(self) -> bool {
        matches!(self, MemoryArg::Classical | MemoryArg::Poly | MemoryArg::RectPoly | MemoryArg::Exp)
    }
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

/// Loads the data set named by `a`.
pub fn load(a: &DataArgs, data_dir: &Path) -> Result<Dataset> {
    load_split(&a.data, a.split, data_dir)
}

/// Loads `split` of `data`; a failure names the flag, and a missing set the flags that point elsewhere.
pub fn load_split(data: &hopfield_data::DataSource, split: hopfield_data::Split, data_dir: &Path) -> Result<Dataset> {
    hopfield_data::load(data, split, data_dir).map_err(|e| data_error(e, data))
}

/// The separation function for a binary memory kind and degree.
pub fn separation(m: MemoryArg, n: u32) -> Result<Separation> {
    let s = match m {
        MemoryArg::Classical => Separation::Classical,
        MemoryArg::Poly => Separation::Polynomial { n },
        MemoryArg::RectPoly => Separation::RectifiedPolynomial { n },
        MemoryArg::Exp => Separation::Exponential,
        m => bail!(
            "--memory {m:?} is continuous: it has no binary separation function (classical, poly, rect-poly or exp)"
        ),
    };
    s.validate()?;
    Ok(s)
}

/// A progress bar over `total` steps.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let pb = styled_bar(total, "{msg} [{bar:30}] {pos}/{len} {elapsed_precise}");
    pb.set_message(what.to_string());
    pb
}

/// A progress bar over `total` steps drawn with an indicatif `template`.
pub fn styled_bar(total: u64, template: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "),
    );
    pb
}

/// A training error for the command line: a divergence gets the flags that change it (`hint`).
pub fn with_hint(e: hopfield_train::TrainError, hint: &str) -> anyhow::Error {
    let diverged = matches!(e, hopfield_train::TrainError::Diverged { .. });
    let e = anyhow::Error::new(e);
    if diverged {
        e.context(format!("training diverged: {hint}"))
    } else {
        e
    }
}

/// "`data` (N train / M test images of C×H×W)", the line every training command starts with.
pub fn describe_splits(data: &impl std::fmt::Display, tr: &Dataset, te: &Dataset) -> String {
    format!(
        "{data} ({} train / {} test images of {}×{}×{})",
        tr.len(),
        te.len(),
        tr.channels(),
        tr.height(),
        tr.width()
    )
}

/// A data set that failed to load, with the flags that point elsewhere: a missing set names
/// --data-dir and --data.
pub fn data_error(e: hopfield_data::DataError, data: &hopfield_data::DataSource) -> anyhow::Error {
    let hint = match e {
        hopfield_data::DataError::NotFound { .. } => {
            " (--data-dir or HOPFIELD_DATA_DIR sets the data directory; --data also takes a path)"
        }
        _ => "",
    };
    anyhow::Error::new(e).context(format!("loading --data {data}{hint}"))
}

/// A library error about a setting that is one of `names` (the config's field names of this
/// command's flags) with the flag's spelling: `invalid max_folds = 0: …` becomes
/// `invalid --max-folds 0: …`. Other errors pass unchanged.
pub fn flagged(e: hopfield_train::TrainError, names: &[&str]) -> anyhow::Error {
    match e {
        hopfield_train::TrainError::Invalid { name, value, expected } if names.contains(&name) => {
            anyhow::anyhow!("invalid --{} {value}: {expected}", name.to_lowercase().replace(['_', ' '], "-"))
        }
        e => anyhow::Error::new(e),
    }
}

/// The checkpoint flags of the protocols that train several runs (graph classify, graph anomaly, mil).
#[derive(Args, Debug, Clone)]
pub struct ResumeArgs {
    /// Checkpoint folder, rewritten (atomically) after every epoch of every run; default:
    /// <out>/checkpoint.
    #[arg(long)]
    pub checkpoint: Option<std::path::PathBuf>,
    /// Continue the run saved in the checkpoint folder, with the same data and settings: the runs it
    /// finished are read back, the one in progress continues at its next epoch.
    #[arg(long)]
    pub resume: bool,
}

impl ResumeArgs {
    /// Where the checkpoint goes for outputs in `out`.
    pub fn checkpointing(&self, out: &Path) -> hopfield_train::experiments::resume::Checkpointing {
        hopfield_train::experiments::resume::Checkpointing {
            dir: self.checkpoint.clone().unwrap_or_else(|| out.join("checkpoint")),
            resume: self.resume,
        }
    }
}

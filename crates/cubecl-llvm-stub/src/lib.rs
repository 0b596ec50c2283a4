//! A stand-in for `cubecl-llvm` 0.11.3 in hopfield's CUDA build.
//!
//! **Why.** burn 0.22.1's `cuda` feature uses cubecl-cuda 0.11.x, which always *depends* on
//! cubecl-llvm (its LLVM/PTX kernel compiler), whose build script runs `tracel-llvm-bundler`: it
//! downloads a prebuilt LLVM from a code host. Where only the crate registry is reachable (this
//! project's machines and CI), that build fails, and with it the whole CUDA binary. cubecl-cuda
//! *uses* cubecl-llvm only when its LLVM compiler is selected; with its `cpp` feature (enabled in
//! `crates/hopfield-cli/Cargo.toml`) kernels are CUDA C++ compiled at run time by NVRTC, and the
//! LLVM compiler is dead code. This crate provides the few items cubecl-cuda names — the PTX
//! version table (which it also reads on the C++ path, for a cache key), the feature narrowing
//! and the compiler's types — with no llvm-sys, pliron or bundler behind them: asking it to
//! compile a kernel is an error that says so, never a panic.
//!
//! **When to drop it.** When cubecl-cuda makes cubecl-llvm an optional dependency (or its
//! bundler can build offline), or when burn is upgraded past 0.22.1 / cubecl 0.11.x: then remove
//! the `[patch.crates-io]` entry in the workspace's Cargo.toml and this folder, and check that
//! `cargo tree -i llvm-sys --features cuda` still finds nothing. The `=0.11.3` pins below make a
//! cubecl upgrade fail to resolve rather than silently keep a stale stand-in.
//!
//! Nothing here is compiled without hopfield's `cuda` feature.

#![forbid(unsafe_code)]

use cubecl_core::ir::nvidia::SmArch;
use cubecl_core::ir::DeviceProperties;
use cubecl_core::prelude::KernelDefinition;
use cubecl_environment::backtrace::BackTrace;
use cubecl_runtime::compiler::{CompilationError, Compiler};
use cubecl_runtime::kernel::BufferIOAttr;

/// The NVPTX items cubecl-cuda names.
pub mod nvptx {
    /// The PTX ISA version (cubecl-cuda keys its kernel cache on it on every path).
    pub mod ptx_version {
        use core::fmt;

        /// A PTX ISA version, as the NVPTX target feature spells it: 8.7 is `87`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct PtxVersion(u32);

        impl PtxVersion {
            /// The newest version a driver of CUDA `driver` loads (12.8 is `12080`); `None`
            /// below CUDA 10.0. The same table as the real crate's, so cache keys agree.
            pub fn for_driver(driver: i32) -> Option<Self> {
                DRIVER_PTX.iter().find(|(first_driver, _)| driver >= *first_driver).map(|(_, ptx)| Self(*ptx))
            }
        }

        impl fmt::Display for PtxVersion {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "ptx{}", self.0)
            }
        }

        /// The first CUDA release to load each PTX version, newest first (cubecl-llvm 0.11.3).
        const DRIVER_PTX: &[(i32, u32)] = &[
            (13030, 93),
            (13020, 92),
            (13010, 91),
            (13000, 90),
            (12090, 88),
            (12080, 87),
            (12050, 85),
            (12040, 84),
            (12030, 83),
            (12020, 82),
            (12010, 81),
            (12000, 80),
            (11080, 78),
            (11070, 77),
            (11060, 76),
            (11050, 75),
            (11040, 74),
            (11030, 73),
            (11020, 72),
            (11010, 71),
            (11000, 70),
            (10020, 65),
            (10010, 64),
            (10000, 63),
        ];
    }
}

/// The device-feature narrowing cubecl-cuda names.
pub mod shared {
    /// What a device advertises, narrowed to what the LLVM backend lowers.
    pub mod lowered_features {
        use super::super::DeviceProperties;

        /// The GPU target a device's features are narrowed for.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum GpuTarget {
            /// NVIDIA PTX.
            Nvptx,
        }

        /// cubecl-cuda calls this only when its LLVM backend is selected, which the `cpp`
        /// feature rules out; kernels then come from NVRTC, which supports every feature the
        /// device advertises, so the properties are left as they are.
        pub fn restrict_features(_props: &mut DeviceProperties, _target: GpuTarget) {}
    }
}

/// LLVM compilation targets (cubecl-cuda names only this one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LlvmTarget {
    /// NVIDIA PTX.
    Nvptx,
}

/// The LLVM compiler's options (the fields cubecl-cuda sets).
#[derive(Clone, Debug, Default)]
pub struct PlironOptions {
    /// AMDGPU architecture: never set for CUDA.
    pub arch: Option<()>,
    /// NVPTX architecture.
    pub sm_arch: Option<SmArch>,
    /// PTX version to emit.
    pub ptx_version: Option<nvptx::ptx_version::PtxVersion>,
    /// Pass scalars and static metadata in the kernel parameter block.
    pub grid_constants: bool,
}

/// A compiled PTX module (never produced here).
#[derive(Clone, Debug)]
pub struct NvptxModule {
    /// NUL-terminated PTX assembly.
    pub ptx: Vec<core::ffi::c_char>,
    /// Kernel entry point symbol.
    pub entrypoint: String,
    /// IR for logging and cache keys.
    pub ir: String,
    /// Shared memory required per launch, in bytes.
    pub shared_memory_size: usize,
    /// Buffer access modes in binding order.
    pub io: Vec<BufferIOAttr>,
}

/// A compiled kernel artifact (never produced here).
#[derive(Clone, Debug)]
pub enum PlironArtifact {
    /// A PTX module.
    NvptxCode(NvptxModule),
}

impl core::fmt::Display for PlironArtifact {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PlironArtifact::NvptxCode(module) => f.write_str(&module.ir),
        }
    }
}

/// The LLVM compiler: in this build every compilation is an error naming the reason.
#[derive(Clone, Debug)]
pub struct PlironCompiler {
    /// The target it would compile for.
    pub target: LlvmTarget,
}

impl Compiler for PlironCompiler {
    type Representation = PlironArtifact;
    type CompilationOptions = PlironOptions;

    fn compile(
        &mut self,
        _kernel: KernelDefinition,
        _options: &PlironOptions,
    ) -> Result<PlironArtifact, CompilationError> {
        Err(CompilationError::Generic {
            reason: "cubecl's LLVM backend is not part of this build (hopfield uses the stand-in \
                     cubecl-llvm crate and compiles CUDA kernels with NVRTC: cubecl-cuda's `cpp` \
                     feature)"
                .to_string(),
            backtrace: BackTrace::capture(),
        })
    }

    fn extension(&self) -> &'static str {
        "ll"
    }

    fn lang_tag(&self) -> &'static str {
        "llvm"
    }
}

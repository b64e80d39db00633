//! The programmes and REM versions shipped with the platform, compiled into the binary and
//! loaded into the database at start (a version already present is left as it is).

/// A programme definition file.
pub struct BundledProgramme {
    pub file: &'static str,
    pub toml: &'static str,
}

/// A REM workbook in the Convergence layout.
pub struct BundledRem {
    pub programme: &'static str,
    pub label: &'static str,
    pub file: &'static str,
    pub bytes: &'static [u8],
}

pub const PROGRAMMES: &[BundledProgramme] = &[
    BundledProgramme {
        file: "programmes/HOP-DPI-Va2/programme.toml",
        toml: include_str!("../../../programmes/HOP-DPI-Va2/programme.toml"),
    },
    BundledProgramme {
        file: "programmes/BIO-SGL-Va1/programme.toml",
        toml: include_str!("../../../programmes/BIO-SGL-Va1/programme.toml"),
    },
    BundledProgramme {
        file: "programmes/MS2-DUI-PDE-Va1-SF/programme.toml",
        toml: include_str!("../../../programmes/MS2-DUI-PDE-Va1-SF/programme.toml"),
    },
];

pub const REMS: &[BundledRem] = &[BundledRem {
    programme: "HOP-DPI-Va2",
    label: "prepublication-2023",
    file: "programmes/HOP-DPI-Va2/rem/prepublication-2023.xlsx",
    bytes: include_bytes!("../../../programmes/HOP-DPI-Va2/rem/prepublication-2023.xlsx"),
}];

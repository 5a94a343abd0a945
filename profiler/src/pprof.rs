//! The task profile and the park-time profile as gzipped `profile.proto`, the format
//! `go tool pprof` reads (`?debug=0`).
//!
//! The messages of google/pprof's `proto/profile.proto` are derived here by hand with prost
//! (no protoc), with that file's field numbers.
//!
//! A task has no call stack to show, so each sample gets a two-frame stack that says what a
//! Go user reads off a goroutine profile:
//!
//! - leaf: a function named `<reason> at <park site>` (e.g. `chan send at src/main.rs:44:24`)
//!   located at the park site. The site is part of the name because pprof's default
//!   `functions` granularity merges functions by name: this way `go tool pprof -top` ranks
//!   park sites by task count rather than lumping every `chan send` together. The
//!   function's `system_name` is the bare reason (`go tool pprof -orig_fnames` shows it).
//! - root: a function named after the spawned future's type, located at the spawn site.
//!
//! A task that is running, runnable, or parked with no record has only the root frame.
//! Reasons are spelled with their detail (`IO wait (read)`), as `{:#}` prints them.

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use prost::Message;
use runtime::ParkReason;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::panic::Location as SourceLocation;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `perftools.profiles.Profile`: the whole profile. Strings are indices into `string_table`.
#[derive(Clone, PartialEq, Message)]
pub struct Profile {
    /// What each value of a sample measures.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// The samples.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// The program's mappings; `Location::mapping_id` refers to them.
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    /// The frames `Sample::location_id` refers to.
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// The functions `Line::function_id` refers to.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Every string of the profile; entry 0 is always "".
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// Regexp (string index) of frames to drop.
    #[prost(int64, tag = "7")]
    pub drop_frames: i64,
    /// Regexp (string index) of frames to keep.
    #[prost(int64, tag = "8")]
    pub keep_frames: i64,
    /// When the profile was taken, in nanoseconds since the Unix epoch.
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// How long the profile covers.
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// What an event counted by `period` is.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// Events between samples.
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// Free-form comments (string indices).
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    /// The sample type shown by default (string index of its `type`); 0 means the last.
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

/// `ValueType`: a sample value's type and unit (string indices).
#[derive(Clone, PartialEq, Message)]
pub struct ValueType {
    /// E.g. `goroutine`, `contentions`, `delay`.
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// E.g. `count`, `nanoseconds`.
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// `Sample`: one stack with its values and labels.
#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    /// The stack, leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// One value per `Profile::sample_type`.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// Key/value annotations.
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// `Label`: a string (`str`) or numeric (`num`, `num_unit`) annotation of a sample.
#[derive(Clone, PartialEq, Message)]
pub struct Label {
    /// The key (string index).
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// A string value (string index), or 0.
    #[prost(int64, tag = "2")]
    pub str: i64,
    /// A numeric value, when `str` is 0.
    #[prost(int64, tag = "3")]
    pub num: i64,
    /// The unit of `num` (string index), e.g. `nanoseconds`.
    #[prost(int64, tag = "4")]
    pub num_unit: i64,
}

/// `Mapping`: a binary mapped into the program's address space.
#[derive(Clone, PartialEq, Message)]
pub struct Mapping {
    /// Non-zero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// First address of the mapping.
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    /// Address just past its end.
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    /// Offset in the file.
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    /// The binary's name (string index).
    #[prost(int64, tag = "5")]
    pub filename: i64,
    /// The binary's build id (string index).
    #[prost(int64, tag = "6")]
    pub build_id: i64,
    /// Locations already carry functions: pprof must not symbolize.
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    /// Functions carry file names.
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
    /// Lines carry line numbers.
    #[prost(bool, tag = "9")]
    pub has_line_numbers: bool,
    /// Locations carry inlined frames.
    #[prost(bool, tag = "10")]
    pub has_inline_frames: bool,
}

/// `Location`: one frame.
#[derive(Clone, PartialEq, Message)]
pub struct Location {
    /// Non-zero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// The mapping it belongs to.
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    /// Its address (0: none).
    #[prost(uint64, tag = "3")]
    pub address: u64,
    /// The source lines, inlined callees first.
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
    /// Whether several frames were folded into it.
    #[prost(bool, tag = "5")]
    pub is_folded: bool,
}

/// `Line`: a source position in a function.
#[derive(Clone, PartialEq, Message)]
pub struct Line {
    /// The function.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// The line number.
    #[prost(int64, tag = "2")]
    pub line: i64,
    /// The column number.
    #[prost(int64, tag = "3")]
    pub column: i64,
}

/// `Function`: a named function in a source file.
#[derive(Clone, PartialEq, Message)]
pub struct Function {
    /// Non-zero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Its display name (string index).
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// Its system name (string index).
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// Its source file (string index).
    #[prost(int64, tag = "4")]
    pub filename: i64,
    /// The line it starts at.
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

impl Profile {
    /// The string at index `i` of the string table ("" if out of range).
    pub fn string(&self, i: i64) -> &str {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.string_table.get(i))
            .map_or("", String::as_str)
    }
}

/// The task profile as gzipped `profile.proto` (Go's goroutine profile).
///
/// Sample type `goroutine`/`count` (and period type, period 1). One sample per distinct
/// (stack, labels), its value the number of tasks that share them; the stack is
/// `[<reason> at <park site>, <future type>]` (see the module docs). Labels: `state`
/// (`parked`, `running`, `runnable`), `reason` and `name` when there is one, `parked`, the
/// park's duration in `nanoseconds`, and for a running task `in_poll` (its time in the
/// current poll, in `nanoseconds`) and `worker` (the worker polling it). One Mapping (id 1) with functions, file names
/// and line numbers, so pprof never tries to symbolize. `time_nanos` is now.
///
/// # Examples
///
/// ```
/// let rt = runtime::Builder::new().worker_threads(1).build()?;
/// let bytes = profiler::pprof::encode(&rt.profile());
/// let decoded = profiler::pprof::decode(&bytes)?;
/// assert_eq!(decoded.string(decoded.sample_type[0].r#type), "goroutine");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn encode(profile: &runtime::Profile) -> Vec<u8> {
    let mut b = Builder::new();
    let goroutine = b.value_type("goroutine", "count");
    b.out.sample_type.push(goroutine.clone());
    b.out.period_type = Some(goroutine);
    b.out.period = 1;
    let comment = b.string(&format!(
        "parkade task profile: {} live, {} spawned, {} completed, {} workers",
        profile.len(),
        profile.spawned_total(),
        profile.completed_total(),
        profile.workers()
    ));
    b.out.comment.push(comment);

    let keys = Keys {
        state: b.string("state"),
        reason: b.string("reason"),
        name: b.string("name"),
        parked: b.string("parked"),
        in_poll: b.string("in_poll"),
        worker: b.string("worker"),
        nanoseconds: b.string("nanoseconds"),
    };
    // Tasks that look the same to pprof add up in one sample.
    let mut samples: HashMap<SampleKey, usize> = HashMap::new();
    for task in profile.tasks() {
        let root = b.location(Frame::Future(task.future_type(), site(task.spawn_site())));
        let state = b.string(task.state().as_str());
        let name = task.name().map_or(0, |name| b.string(name));
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        let (stack, reason, timed) = match task.park() {
            Some(park) => {
                let leaf = b.location(Frame::Park(park.reason(), Some(site(park.site()))));
                let reason = b.reason(park.reason());
                (
                    [leaf, root],
                    reason,
                    Some((keys.parked, nanos(park.duration()))),
                )
            }
            None => {
                let in_poll = task.poll_duration().map(|d| (keys.in_poll, nanos(d)));
                ([root, 0], 0, in_poll)
            }
        };
        let worker = task.worker().map(|w| w as i64);
        let key = (stack, state, reason, name, timed, worker);
        if let Some(&i) = samples.get(&key) {
            b.out.sample[i].value[0] += 1;
            continue;
        }
        let mut label = vec![Label {
            key: keys.state,
            str: state,
            ..Label::default()
        }];
        if reason != 0 {
            label.push(Label {
                key: keys.reason,
                str: reason,
                ..Label::default()
            });
        }
        if name != 0 {
            label.push(Label {
                key: keys.name,
                str: name,
                ..Label::default()
            });
        }
        if let Some((key, nanos)) = timed {
            label.push(Label {
                key,
                num: nanos,
                num_unit: keys.nanoseconds,
                ..Label::default()
            });
        }
        if let Some(worker) = worker {
            label.push(Label {
                key: keys.worker,
                num: worker,
                ..Label::default()
            });
        }
        samples.insert(key, b.out.sample.len());
        b.out.sample.push(Sample {
            location_id: stack.into_iter().filter(|&id| id != 0).collect(),
            value: vec![1],
            label,
        });
    }
    debug_assert_eq!(
        b.out.sample.iter().map(|s| s.value[0]).sum::<i64>(),
        profile.len() as i64
    );
    b.finish()
}

/// The park-time profile as gzipped `profile.proto` (Go's block profile).
///
/// Sample types `contentions`/`count` and `delay`/`nanoseconds` (the default, being last);
/// period type `contentions`/`count`, period 1. One sample per [`runtime::ParkSite`], its
/// stack the single frame `<reason> at <site>` (`<reason> at <unknown site>` for parks the
/// runtime's table had no room to key), with a `reason` label.
pub fn encode_park(profile: &runtime::Profile) -> Vec<u8> {
    let mut b = Builder::new();
    let contentions = b.value_type("contentions", "count");
    let delay = b.value_type("delay", "nanoseconds");
    b.out.sample_type = vec![contentions.clone(), delay];
    b.out.period_type = Some(contentions);
    b.out.period = 1;
    let reason_key = b.string("reason");
    for row in profile.park_sites() {
        let leaf = b.location(Frame::Park(row.reason, row.site.map(site)));
        let reason = b.reason(row.reason);
        b.out.sample.push(Sample {
            location_id: vec![leaf],
            value: vec![
                i64::try_from(row.count).unwrap_or(i64::MAX),
                i64::try_from(row.total.as_nanos()).unwrap_or(i64::MAX),
            ],
            label: vec![Label {
                key: reason_key,
                str: reason,
                ..Label::default()
            }],
        });
    }
    b.finish()
}

/// Decodes what [`encode`] or [`encode_park`] produced (or any gzipped or plain
/// `profile.proto`).
///
/// # Errors
/// `InvalidData` if the bytes are not a gzipped (or raw) `profile.proto`.
pub fn decode(bytes: &[u8]) -> io::Result<Profile> {
    let mut raw = Vec::new();
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        GzDecoder::new(bytes).read_to_end(&mut raw)?;
        &raw[..]
    } else {
        bytes
    };
    Profile::decode(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// A sample's identity: (stack with 0 for a missing frame, the string indices of state,
/// reason and name (0: none), the timed label (`parked` or `in_poll`) with its nanoseconds,
/// and the worker of a running task).
type SampleKey = ([u64; 2], i64, i64, i64, Option<(i64, i64)>, Option<i64>);

/// A source site compared by value: equal sites from different codegen units are one frame.
type Site = (&'static str, u32, u32);

fn site(location: &'static SourceLocation<'static>) -> Site {
    (location.file(), location.line(), location.column())
}

/// What a stack frame stands for; one Function and one Location per distinct frame.
#[derive(PartialEq, Eq, Hash)]
enum Frame {
    /// A park for this reason at this site (`None`: unkeyed).
    Park(ParkReason, Option<Site>),
    /// The spawned future of this type at its spawn site.
    Future(&'static str, Site),
}

/// String indices of the label keys.
struct Keys {
    state: i64,
    reason: i64,
    name: i64,
    parked: i64,
    in_poll: i64,
    worker: i64,
    nanoseconds: i64,
}

/// Interns strings and frames while a profile is built.
///
/// Invariants: `out.string_table[0]` is ""; location ids equal their function ids, both
/// numbered from 1 in insertion order.
struct Builder {
    out: Profile,
    strings: HashMap<String, i64>,
    frames: HashMap<Frame, u64>,
    reasons: HashMap<ParkReason, i64>,
}

impl Builder {
    fn new() -> Builder {
        let mut b = Builder {
            out: Profile::default(),
            strings: HashMap::new(),
            frames: HashMap::new(),
            reasons: HashMap::new(),
        };
        b.string("");
        let binary = std::env::current_exe()
            .ok()
            .and_then(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "parkade".to_string());
        let filename = b.string(&binary);
        b.out.mapping.push(Mapping {
            id: 1,
            filename,
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            ..Mapping::default()
        });
        b.out.time_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        b
    }

    fn string(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.out.string_table.len() as i64;
        self.out.string_table.push(s.to_string());
        self.strings.insert(s.to_string(), i);
        i
    }

    fn value_type(&mut self, ty: &str, unit: &str) -> ValueType {
        ValueType {
            r#type: self.string(ty),
            unit: self.string(unit),
        }
    }

    /// The reason's string index, spelled with its detail.
    fn reason(&mut self, reason: ParkReason) -> i64 {
        if let Some(&i) = self.reasons.get(&reason) {
            return i;
        }
        let i = self.string(&format!("{reason:#}"));
        self.reasons.insert(reason, i);
        i
    }

    /// The location id of `frame`, adding its Function and Location on first use.
    fn location(&mut self, frame: Frame) -> u64 {
        if let Some(&id) = self.frames.get(&frame) {
            return id;
        }
        let (name, system_name, (file, line, column)) = match frame {
            Frame::Park(reason, Some((file, line, column))) => (
                format!("{reason:#} at {file}:{line}:{column}"),
                format!("{reason:#}"),
                (file, line, column),
            ),
            Frame::Park(reason, None) => (
                format!("{reason:#} at <unknown site>"),
                format!("{reason:#}"),
                ("", 0, 0),
            ),
            Frame::Future(ty, at) => (ty.to_string(), ty.to_string(), at),
        };
        let id = self.out.function.len() as u64 + 1;
        let function = Function {
            id,
            name: self.string(&name),
            system_name: self.string(&system_name),
            filename: self.string(file),
            start_line: i64::from(line),
        };
        self.out.function.push(function);
        self.out.location.push(Location {
            id,
            mapping_id: 1,
            line: vec![Line {
                function_id: id,
                line: i64::from(line),
                column: i64::from(column),
            }],
            ..Location::default()
        });
        self.frames.insert(frame, id);
        id
    }

    /// Gzips the encoded profile.
    fn finish(self) -> Vec<u8> {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        let written = gz.write_all(&self.out.encode_to_vec());
        written
            .and_then(|()| gz.finish())
            .expect("gzip into a Vec cannot fail")
    }
}

//! Shards: one run takes a fixed share of the plan, so that N runs (the tasks of a Slurm,
//! Kubernetes or AWS Batch array) convert exactly the whole plan between them, however
//! often a task is re-run.
//!
//! The split is a pure function of each input's plan key, so any tool can reproduce it:
//! the image belongs to shard `xxh3_64(key) mod N` (XXH3, 64 bits, seed 0, over the key's
//! bytes). The key is a folder (or bucket prefix) input's path relative to it, with `/`
//! between folders; a named file's name; a URL line's URL as written. It does not depend
//! on input order, file sizes, the machine or imgpar's version.

use std::fmt;

use serde::Serialize;

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// This run's shard, 0-based, below `count`.
    pub index: u64,
    /// How many shards the plan is split into; at least 1.
    pub count: u64,
}

impl Shard {
    /// Shard `index` of `count`, or why that is not a shard.
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 {
            return Err("a plan has at least 1 shard".into());
        }
        if index >= count {
            return Err(format!(
                "shard {index} does not exist: shards of {count} are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether the input whose plan key is `key` belongs to this shard.
    pub fn takes(&self, key: &[u8]) -> bool {
        shard_of(key, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N`, as `--shard` takes it.
    fn from_str(text: &str) -> Result<Shard, String> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not a shard: write I/N, e.g. 0/8"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{text}` is not a shard: write I/N, e.g. 0/8"))
        };
        Shard::new(number(index)?, number(count)?)
    }
}

/// The shard of `count` that the plan key `key` falls in.
pub fn shard_of(key: &[u8], count: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key) % count.max(1)
}

/// The shard a run takes and what chose it (`--shard`, or the variables of the engine
/// that started the task), as the summary and report say it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardChoice {
    /// The shard.
    #[serde(flatten)]
    pub shard: Shard,
    /// What chose it: `--shard`, or the environment variables read.
    pub source: String,
}

impl ShardChoice {
    /// The shard the environment gives this task, read through `var` (a variable's value, if
    /// set): `Ok(None)` when no engine's variables are set, an error naming the variable when
    /// they are partial, not numbers or inconsistent, or when two engines' variables are set.
    pub fn from_environment(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<ShardChoice>, String> {
        let mut found: Vec<ShardChoice> = Vec::new();
        for engine in ENGINES {
            if let Some(choice) = engine.read(&var)? {
                found.push(choice);
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => Err(format!(
                "the environment names shards of several engines ({} and {}); say which with \
                 --shard I/N, or --no-shard",
                found[0].source, found[1].source
            )),
        }
    }
}

/// The engines whose array tasks imgpar recognises, each with the variables that say the
/// task's position and the array's size.
const ENGINES: &[Engine] = &[
    Engine {
        name: "Slurm job array",
        index: "SLURM_ARRAY_TASK_ID",
        count: "SLURM_ARRAY_TASK_COUNT",
        min: Some("SLURM_ARRAY_TASK_MIN"),
        step: Some("SLURM_ARRAY_TASK_STEP"),
    },
    Engine {
        name: "Kubernetes Indexed Job",
        index: "JOB_COMPLETION_INDEX",
        count: "IMGPAR_SHARD_COUNT",
        min: None,
        step: None,
    },
    Engine {
        name: "AWS Batch array job",
        index: "AWS_BATCH_JOB_ARRAY_INDEX",
        count: "AWS_BATCH_JOB_ARRAY_SIZE",
        min: None,
        step: None,
    },
];

struct Engine {
    name: &'static str,
    index: &'static str,
    count: &'static str,
    /// Slurm numbers tasks from a minimum in steps (`--array=1-15:2`).
    min: Option<&'static str>,
    step: Option<&'static str>,
}

impl Engine {
    fn read(&self, var: &impl Fn(&str) -> Option<String>) -> Result<Option<ShardChoice>, String> {
        let (index, count) = (var(self.index), var(self.count));
        let (index, count) = match (index, count) {
            (None, None) => return Ok(None),
            (Some(index), Some(count)) => (index, count),
            (Some(_), None) => return Err(self.missing(self.count, self.index)),
            (None, Some(_)) => return Err(self.missing(self.index, self.count)),
        };
        let number = |name: &str, text: &str| {
            text.trim()
                .parse::<u64>()
                .map_err(|_| format!("{name}={text:?} is not a whole number ({})", self.name))
        };
        let id = number(self.index, &index)?;
        let count = number(self.count, &count)?;
        if count == 0 {
            return Err(format!("{}=0: an array has at least 1 task", self.count));
        }
        let min = match self.min.and_then(|name| Some((name, var(name)?))) {
            Some((name, text)) => number(name, &text)?,
            None => 0,
        };
        let step = match self.step.and_then(|name| Some((name, var(name)?))) {
            Some((name, text)) => number(name, &text)?.max(1),
            None => 1,
        };
        let position = id
            .checked_sub(min)
            .filter(|offset| offset % step == 0)
            .map(|offset| offset / step);
        let source = self.source();
        let shard = position
            .ok_or(())
            .and_then(|position| Shard::new(position, count).map_err(drop))
            .map_err(|()| {
                let last = count.saturating_sub(1);
                let why = match self.min {
                    // Only Slurm numbers its tasks with a start and a step.
                    Some(_) => "arrays with gaps (such as --array=1,2,9) cannot say the shard",
                    None => "the index must be below the array's size",
                };
                format!(
                    "{source} gives task {id} of {count}, which is no position in 0 to \
                     {last}: {why}; give it with --shard I/N"
                )
            })?;
        Ok(Some(ShardChoice { shard, source }))
    }

    fn missing(&self, absent: &str, present: &str) -> String {
        let hint = if absent == "IMGPAR_SHARD_COUNT" {
            " (Kubernetes does not tell a pod the job's completions: set it to the same \
             number)"
        } else {
            ""
        };
        format!(
            "{present} is set but {absent} is not{hint}; set both, or give --shard I/N, or \
             --no-shard"
        )
    }

    fn source(&self) -> String {
        let mut names = vec![self.index, self.count];
        names.extend(self.min);
        names.extend(self.step);
        format!("{} ({})", self.name, names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_split_is_xxh3_of_the_key_mod_n() {
        // Reference values of XXH3-64 with seed 0 (as `xxhsum -H3` prints them).
        assert_eq!(xxhash_rust::xxh3::xxh3_64(b""), 0x2d06800538d394c2);
        assert_eq!(shard_of(b"", 8), 0x2d06800538d394c2 % 8);
        let shard = Shard::new(3, 8).unwrap();
        let taken = (0..1000)
            .filter(|i| shard.takes(format!("img_{i}.jpg").as_bytes()))
            .count();
        assert!(
            (90..160).contains(&taken),
            "{taken} of 1000 in shard 3 of 8"
        );
    }

    #[test]
    fn shard_flags_parse_and_refuse_nonsense() {
        assert_eq!("2/8".parse::<Shard>(), Ok(Shard { index: 2, count: 8 }));
        for bad in ["8/8", "1/0", "x/2", "3", "-1/4"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn slurm_arrays_with_a_step_map_to_positions() {
        let vars = [
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ];
        let choice = ShardChoice::from_environment(env(&vars)).unwrap().unwrap();
        assert_eq!(choice.shard, Shard { index: 3, count: 8 });
        assert!(
            choice.source.contains("SLURM_ARRAY_TASK_ID"),
            "{}",
            choice.source
        );
    }

    #[test]
    fn arrays_with_gaps_are_refused() {
        let vars = [
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_STEP", "1"),
        ];
        let error = ShardChoice::from_environment(env(&vars)).unwrap_err();
        assert!(error.contains("--shard"), "{error}");
    }

    #[test]
    fn partial_or_broken_variables_name_the_variable() {
        let error =
            ShardChoice::from_environment(env(&[("JOB_COMPLETION_INDEX", "2")])).unwrap_err();
        assert!(error.contains("IMGPAR_SHARD_COUNT"), "{error}");
        let error = ShardChoice::from_environment(env(&[
            ("AWS_BATCH_JOB_ARRAY_INDEX", "two"),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "4"),
        ]))
        .unwrap_err();
        assert!(error.contains("AWS_BATCH_JOB_ARRAY_INDEX"), "{error}");
        let error = ShardChoice::from_environment(env(&[
            ("AWS_BATCH_JOB_ARRAY_INDEX", "4"),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "4"),
        ]))
        .unwrap_err();
        assert!(error.contains("4 of 4"), "{error}");
        assert_eq!(ShardChoice::from_environment(env(&[])), Ok(None));
    }
}

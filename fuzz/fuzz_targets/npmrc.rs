//! Any bytes as an `.npmrc` file, UTF-8 or not: parse, render, read every
//! entry, then a few edits chosen by the input's last bytes, checking after
//! each what must hold for every file (tests/properties.rs states the same
//! properties).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtok::tokens::short_ids;
use rtok::npmrc::{Document, credential_prefixes, expand, nerf_dart, value};
use url::Url;

fuzz_target!(|data: &[u8]| {
    let mut doc = Document::parse(data);
    // Lossless: the bytes come back, every one, UTF-8 or not.
    assert_eq!(doc.render(), data);

    // npm reads the file as UTF-8 with U+FFFD for each invalid sequence:
    // the entries are those of that text, on the same lines.
    let text = String::from_utf8_lossy(data);
    let as_text = Document::parse(text.as_bytes());
    assert_eq!(located(&doc), located(&as_text));

    // Every line is material for keys and values below.
    let pieces: Vec<&str> = text.split(['\r', '\n']).collect();
    for piece in &pieces {
        check_value(piece);
    }
    for located in doc.entries().chain(doc.entries_in_sections()) {
        check_value(&located.entry.key);
        check_value(&located.entry.value);
    }

    // A few edits, each chosen by one of the last bytes.
    for (step, &byte) in data.iter().rev().take(4).enumerate() {
        let pick = |n: usize| (usize::from(byte) * 31 + step * 7) % n.max(1);
        let value = if byte & 0x80 == 0 {
            pieces[pick(pieces.len())].to_string()
        } else {
            // A value with a line break, which must be quoted.
            format!("{}\n{}", pieces[pick(pieces.len())], pieces[0])
        };
        match byte % 4 {
            0 => set_then_remove(&mut doc, &new_key(byte, step, &pieces), &value),
            1 => set_existing(&mut doc, pick, &value),
            2 => remove_existing(&mut doc, pick),
            _ => {
                let key = new_key(byte, step, &pieces);
                if writable(&key) {
                    doc.set(&key, &value, &same(&key));
                    assert_eq!(read(&doc, &key).as_deref(), Some(value.as_str()));
                    assert_agrees_with_its_rendering(&doc);
                }
            }
        }
    }

    // Short ids of the lines taken as token keys.
    let mut keys = pieces.clone();
    keys.sort_unstable();
    keys.dedup();
    let ids = short_ids(&keys, 6);
    for (index, (key, id)) in keys.iter().zip(&ids).enumerate() {
        assert!(key.starts_with(id.as_str()));
        assert!(id.chars().count() >= 6 || id == key);
        // (The uniqueness check is quadratic: only for small sets.)
        if id != key && keys.len() <= 128 {
            assert!(
                keys.iter()
                    .enumerate()
                    .all(|(other, k)| other == index || !k.starts_with(id.as_str()))
            );
        }
    }

    // Nerf darts of any line that is a URL.
    for piece in &pieces {
        if let Ok(url) = Url::parse(piece) {
            let dart = nerf_dart(&url);
            let prefixes = credential_prefixes(&url);
            if url.has_host() && !url.cannot_be_a_base() {
                assert!(dart.starts_with("//"));
                // With the file part dropped, the request URL is under the dart.
                if let Ok(directory) = url.join(".") {
                    assert!(credential_prefixes(&directory).contains(&dart));
                }
            }
            assert!(prefixes.windows(2).all(|p| p[0].starts_with(&p[1])));
        }
    }
});

/// The value round trip, the value span and `${VAR}` expansion on one text.
fn check_value(text: &str) {
    let encoded = value::encode(text);
    assert_eq!(value::decode(&encoded), text, "{encoded:?}");
    assert!(!encoded.contains(['\r', '\n']));

    let (start, end) = value::value_span(text);
    assert!(start <= end && end <= text.len());
    assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
    let replaced = format!("{}word{}", &text[..start], &text[end..]);
    assert_eq!(value::decode(&replaced), "word");

    // Even-length names are set (to themselves, upper-cased), others not.
    let lookup = |name: &str| name.len().is_multiple_of(2).then(|| name.to_uppercase());
    let expanded = expand(text, &lookup);
    if !text.contains("${") {
        assert_eq!(expanded.value, text);
        assert!(expanded.unset.is_empty());
    }
    let nothing = expand(text, &|_| None);
    assert!(
        nothing
            .unset
            .iter()
            .all(|name| text.contains(name.as_str()))
    );
}

/// A key for a new entry: a nerf dart, or a line of the input.
fn new_key(byte: u8, step: usize, pieces: &[&str]) -> String {
    match byte / 4 % 3 {
        0 => format!(
            "//fuzz.example:{}/p{step};x/:_authToken",
            1000 + u32::from(byte)
        ),
        1 => pieces[usize::from(byte) % pieces.len()].to_string(),
        _ => pieces[usize::from(byte) % pieces.len()].trim().to_string(),
    }
}

/// Keys npm's ini can write and read back (see tests/properties.rs).
fn writable(key: &str) -> bool {
    let array = key.len() > 2 && key.ends_with("[]");
    !(key.is_empty() || key.contains('=') || array || key == "__proto__")
}

fn set_then_remove(doc: &mut Document, key: &str, value: &str) {
    if !writable(key) || read(doc, key).is_some() {
        return;
    }
    let before = doc.render();
    doc.set(key, value, &same(key));
    assert_eq!(read(doc, key).as_deref(), Some(value), "{key:?}");
    assert_agrees_with_its_rendering(doc);
    assert_eq!(doc.remove(&same(key)), 1);
    assert_eq!(doc.render(), before);
}

/// Sets a key that is there: npm reads the new value; earlier duplicates
/// go; every other entry, and every entry in a section, stays as it was.
fn set_existing(doc: &mut Document, pick: impl Fn(usize) -> usize, value: &str) {
    let keys = top_level_keys(doc);
    if keys.is_empty() {
        return;
    }
    let key = keys[pick(keys.len())].clone();
    let mut expected = entries(doc);
    let last = expected
        .iter()
        .rposition(|(k, _, array)| !array && *k == key)
        .expect("the key is there");
    expected[last].1 = value.to_string();
    let expected: Vec<_> = expected
        .into_iter()
        .enumerate()
        .filter(|(index, (k, _, array))| *index == last || *array || *k != key)
        .map(|(_, entry)| entry)
        .collect();
    let hidden = hidden_entries(doc);

    doc.set(&key, value, &same(&key));
    assert_eq!(entries(doc), expected);
    assert_eq!(hidden_entries(doc), hidden);
    assert_agrees_with_its_rendering(doc);
}

/// Removes a key that is there: it is gone, nothing else is.
fn remove_existing(doc: &mut Document, pick: impl Fn(usize) -> usize) {
    let keys = top_level_keys(doc);
    if keys.is_empty() {
        return;
    }
    let key = keys[pick(keys.len())].clone();
    let expected: Vec<_> = entries(doc)
        .into_iter()
        .filter(|(k, _, array)| *array || *k != key)
        .collect();
    let hidden = hidden_entries(doc);

    assert!(doc.remove(&same(&key)) > 0);
    assert_eq!(entries(doc), expected);
    assert_eq!(hidden_entries(doc), hidden);
    assert_agrees_with_its_rendering(doc);
}

fn same(key: &str) -> impl Fn(&str) -> bool + '_ {
    move |k| k == key
}

/// What npm reads for `key`: the last top-level, non-array entry.
fn read(doc: &Document, key: &str) -> Option<String> {
    doc.entries()
        .filter(|l| !l.entry.array && l.entry.key == key)
        .last()
        .map(|l| l.entry.value.clone())
}

/// Every entry with its line, top-level ones first.
fn located(doc: &Document) -> Vec<(usize, String, String, bool)> {
    doc.entries()
        .chain(doc.entries_in_sections())
        .map(|l| {
            let entry = l.entry;
            (l.line, entry.key.clone(), entry.value.clone(), entry.array)
        })
        .collect()
}

fn top_level_keys(doc: &Document) -> Vec<String> {
    doc.entries()
        .filter(|l| !l.entry.array)
        .map(|l| l.entry.key.clone())
        .collect()
}

type Entries = Vec<(String, String, bool)>;

fn entries(doc: &Document) -> Entries {
    doc.entries()
        .map(|l| (l.entry.key.clone(), l.entry.value.clone(), l.entry.array))
        .collect()
}

fn hidden_entries(doc: &Document) -> Entries {
    doc.entries_in_sections()
        .map(|l| (l.entry.key.clone(), l.entry.value.clone(), l.entry.array))
        .collect()
}

/// The document in memory reads as its rendering does (entries, not line
/// numbers: see `agrees_with_its_rendering` in tests/properties.rs).
fn assert_agrees_with_its_rendering(doc: &Document) {
    let again = Document::parse(doc.render());
    assert_eq!(entries(&again), entries(doc));
    assert_eq!(hidden_entries(&again), hidden_entries(doc));
}

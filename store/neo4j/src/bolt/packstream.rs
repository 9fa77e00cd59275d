//! PackStream, the binary format of Bolt's messages: values written with a
//! marker byte (type and, for small values, size) and big-endian sizes.

use std::collections::HashMap;

use super::Error;

/// A value sent as a query parameter or read from a record.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    String(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
    /// A structure (a node, a relationship, a date…), by its tag.
    Struct(u8, Vec<Value>),
}

/// Values nested deeper than this are refused when read (a server does not
/// send them; a broken stream must not overflow the stack).
const MOST_NESTED: usize = 64;

impl Value {
    /// A map's entry.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Appends this value's PackStream bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(0xC0),
            Value::Bool(b) => out.push(if *b { 0xC3 } else { 0xC2 }),
            Value::Int(i) => write_int(*i, out),
            Value::Float(f) => {
                out.push(0xC1);
                out.extend_from_slice(&f.to_be_bytes());
            }
            Value::Bytes(b) => {
                write_size(b.len(), None, [0xCC, 0xCD, 0xCE], out);
                out.extend_from_slice(b);
            }
            Value::String(s) => write_str(s, out),
            Value::List(items) => {
                write_size(items.len(), Some(0x90), [0xD4, 0xD5, 0xD6], out);
                for v in items {
                    v.write(out);
                }
            }
            Value::Map(entries) => write_map(entries, out),
            Value::Struct(tag, fields) => {
                out.push(0xB0 | (fields.len().min(15) as u8));
                out.push(*tag);
                for v in fields.iter().take(15) {
                    v.write(out);
                }
            }
        }
    }

    /// Reads one value from the front of `input`, leaving the rest.
    pub fn read(input: &mut &[u8]) -> Result<Value, Error> {
        read_value(input, 0)
    }
}

fn write_int(i: i64, out: &mut Vec<u8>) {
    if (-16..=127).contains(&i) {
        out.push(i as i8 as u8);
    } else if let Ok(i) = i8::try_from(i) {
        out.push(0xC8);
        out.push(i as u8);
    } else if let Ok(i) = i16::try_from(i) {
        out.push(0xC9);
        out.extend_from_slice(&i.to_be_bytes());
    } else if let Ok(i) = i32::try_from(i) {
        out.push(0xCA);
        out.extend_from_slice(&i.to_be_bytes());
    } else {
        out.push(0xCB);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

/// Appends a map's PackStream bytes.
pub fn write_map(entries: &[(String, Value)], out: &mut Vec<u8>) {
    write_size(entries.len(), Some(0xA0), [0xD8, 0xD9, 0xDA], out);
    for (k, v) in entries {
        write_str(k, out);
        v.write(out);
    }
}

/// Appends a string's PackStream bytes.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    write_size(s.len(), Some(0x80), [0xD0, 0xD1, 0xD2], out);
    out.extend_from_slice(s.as_bytes());
}

/// A size: in the marker itself when `tiny` is given and it is under 16,
/// else after the 8-, 16- or 32-bit marker.
fn write_size(n: usize, tiny: Option<u8>, markers: [u8; 3], out: &mut Vec<u8>) {
    match (tiny, n) {
        (Some(tiny), 0..=15) => out.push(tiny | n as u8),
        (_, 0..=0xFF) => out.extend_from_slice(&[markers[0], n as u8]),
        (_, 0x100..=0xFFFF) => {
            out.push(markers[1]);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(markers[2]);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], Error> {
    if input.len() < n {
        return Err(Error::Protocol("a value ends before its size".into()));
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn be<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], Error> {
    let mut bytes = [0; N];
    bytes.copy_from_slice(take(input, N)?);
    Ok(bytes)
}

/// The size after an 8-, 16- or 32-bit size marker (`width` bytes).
fn size(input: &mut &[u8], width: usize) -> Result<usize, Error> {
    Ok(match width {
        1 => usize::from(be::<1>(input)?[0]),
        2 => usize::from(u16::from_be_bytes(be(input)?)),
        _ => u32::from_be_bytes(be(input)?) as usize,
    })
}

fn read_value(input: &mut &[u8], depth: usize) -> Result<Value, Error> {
    if depth > MOST_NESTED {
        return Err(Error::Protocol("values nested too deep".into()));
    }
    let marker = be::<1>(input)?[0];
    let string = |input: &mut &[u8], n: usize| {
        String::from_utf8(take(input, n)?.to_vec()).map_err(|_| Error::Protocol("a string is not UTF-8".into()))
    };
    let list = |input: &mut &[u8], n: usize| {
        // Each item takes at least a byte: a size past the input is refused before allocating.
        let mut items = Vec::with_capacity(n.min(input.len()));
        for _ in 0..n {
            items.push(read_value(input, depth + 1)?);
        }
        Ok::<_, Error>(items)
    };
    let map = |input: &mut &[u8], n: usize| {
        let mut entries = Vec::with_capacity(n.min(input.len()));
        for _ in 0..n {
            let Value::String(k) = read_value(input, depth + 1)? else {
                return Err(Error::Protocol("a map key is not a string".into()));
            };
            entries.push((k, read_value(input, depth + 1)?));
        }
        Ok(entries)
    };
    Ok(match marker {
        0x00..=0x7F => Value::Int(i64::from(marker)),
        0xF0..=0xFF => Value::Int(i64::from(marker as i8)),
        0xC0 => Value::Null,
        0xC2 => Value::Bool(false),
        0xC3 => Value::Bool(true),
        0xC8 => Value::Int(i64::from(i8::from_be_bytes(be(input)?))),
        0xC9 => Value::Int(i64::from(i16::from_be_bytes(be(input)?))),
        0xCA => Value::Int(i64::from(i32::from_be_bytes(be(input)?))),
        0xCB => Value::Int(i64::from_be_bytes(be(input)?)),
        0xC1 => Value::Float(f64::from_be_bytes(be(input)?)),
        0xCC..=0xCE => {
            let n = size(input, 1 << (marker - 0xCC))?;
            Value::Bytes(take(input, n)?.to_vec())
        }
        0x80..=0x8F => Value::String(string(input, usize::from(marker & 0x0F))?),
        0xD0..=0xD2 => {
            let n = size(input, 1 << (marker - 0xD0))?;
            Value::String(string(input, n)?)
        }
        0x90..=0x9F => Value::List(list(input, usize::from(marker & 0x0F))?),
        0xD4..=0xD6 => {
            let n = size(input, 1 << (marker - 0xD4))?;
            Value::List(list(input, n)?)
        }
        0xA0..=0xAF => Value::Map(map(input, usize::from(marker & 0x0F))?),
        0xD8..=0xDA => {
            let n = size(input, 1 << (marker - 0xD8))?;
            Value::Map(map(input, n)?)
        }
        0xB0..=0xBF => {
            let tag = be::<1>(input)?[0];
            Value::Struct(tag, list(input, usize::from(marker & 0x0F))?)
        }
        other => return Err(Error::Protocol(format!("unknown PackStream marker {other:#04x}"))),
    })
}

/// `From` for the scalars a parameter is made of.
macro_rules! value_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

value_from! {
    &str => |s| Value::String(s.to_owned()),
    String => |s| Value::String(s),
    &String => |s| Value::String(s.clone()),
    bool => |b| Value::Bool(b),
    i64 => |i| Value::Int(i),
    i32 => |i| Value::Int(i.into()),
    u32 => |i| Value::Int(i.into()),
    f64 => |f| Value::Float(f),
    f32 => |f| Value::Float(f.into()),
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<HashMap<String, T>> for Value {
    fn from(m: HashMap<String, T>) -> Self {
        Value::Map(m.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

/// A Rust value read from a record's column.
pub trait FromValue: Sized {
    fn from_value(v: Value) -> Result<Self, Error>;
}

fn mismatch(wanted: &str, v: &Value) -> Error {
    Error::Conversion(format!("expected {wanted}, found {v:?}"))
}

impl FromValue for Value {
    fn from_value(v: Value) -> Result<Self, Error> {
        Ok(v)
    }
}

impl FromValue for String {
    fn from_value(v: Value) -> Result<Self, Error> {
        match v {
            Value::String(s) => Ok(s),
            other => Err(mismatch("a string", &other)),
        }
    }
}

impl FromValue for i64 {
    fn from_value(v: Value) -> Result<Self, Error> {
        match v {
            Value::Int(i) => Ok(i),
            other => Err(mismatch("an integer", &other)),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: Value) -> Result<Self, Error> {
        match v {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => Err(mismatch("a number", &other)),
        }
    }
}

impl FromValue for bool {
    fn from_value(v: Value) -> Result<Self, Error> {
        match v {
            Value::Bool(b) => Ok(b),
            other => Err(mismatch("a boolean", &other)),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> Result<Self, Error> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value) -> Result<Self, Error> {
        match v {
            Value::List(items) => items.into_iter().map(T::from_value).collect(),
            other => Err(mismatch("a list", &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.write(&mut out);
        out
    }

    #[test]
    fn values_are_written_as_the_specification_shows() {
        // The examples of the PackStream specification.
        assert_eq!(bytes(&Value::Null), [0xC0]);
        assert_eq!(bytes(&true.into()), [0xC3]);
        assert_eq!(bytes(&42i64.into()), [0x2A]);
        assert_eq!(bytes(&(-16i64).into()), [0xF0]);
        assert_eq!(bytes(&(-17i64).into()), [0xC8, 0xEF]);
        assert_eq!(bytes(&1234i64.into()), [0xC9, 0x04, 0xD2]);
        assert_eq!(bytes(&1.1f64.into()), [0xC1, 0x3F, 0xF1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A]);
        assert_eq!(bytes(&"a".into()), [0x81, 0x61]);
        assert_eq!(bytes(&"abcdefghijklmnopqrstuvwxyz".into())[..2], [0xD0, 0x1A]);
        assert_eq!(bytes(&vec![1i64, 2, 3].into()), [0x93, 0x01, 0x02, 0x03]);
        assert_eq!(bytes(&Value::Map(vec![("one".into(), "eins".into())])), {
            let mut v = vec![0xA1, 0x83];
            v.extend_from_slice(b"one");
            v.push(0x84);
            v.extend_from_slice(b"eins");
            v
        });
        assert_eq!(bytes(&Value::Struct(0x0F, vec![])), [0xB0, 0x0F]);
    }

    #[test]
    fn what_is_written_reads_back() {
        let long = "x".repeat(70_000);
        let cases = [
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Int(-129),
            Value::Int(40_000),
            Value::Int(3_000_000_000),
            Value::Float(-0.5),
            Value::Bytes(vec![0, 255, 7]),
            Value::String(long.clone()),
            Value::String("ünïcode".into()),
            Value::List((0..300).map(Value::Int).collect()),
            Value::Map((0..20).map(|i| (format!("k{i}"), Value::from(Some(i as i64)))).collect()),
            Value::Struct(0x4E, vec![Value::Int(1), Value::List(vec!["Project".into()]), Value::Map(vec![])]),
        ];
        for v in cases {
            let written = bytes(&v);
            let mut input = written.as_slice();
            assert_eq!(Value::read(&mut input).unwrap(), v);
            assert!(input.is_empty(), "every byte read");
        }
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        for input in
            [&[0xD0, 0x05, b'a'][..], &[0xC9, 0x01], &[0xD6, 0xFF, 0xFF, 0xFF, 0xFF], &[0xA1, 0x01, 0x01], &[0xE0]]
        {
            assert!(Value::read(&mut &input[..]).is_err(), "{input:?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n(0x91, 1000).chain([0xC0]).collect();
        assert!(Value::read(&mut deep.as_slice()).is_err());
    }

    #[test]
    fn columns_convert_to_what_the_store_reads() {
        assert_eq!(String::from_value("a".into()).unwrap(), "a");
        assert_eq!(Option::<i64>::from_value(Value::Null).unwrap(), None);
        assert_eq!(Option::<i64>::from_value(Value::Int(3)).unwrap(), Some(3));
        assert_eq!(Vec::<String>::from_value(vec!["a", "b"].into()).unwrap(), ["a", "b"]);
        assert!(i64::from_value("3".into()).is_err());
    }
}

//! A small unpickler for the object graphs `torch.save` writes (pickle protocols 2 to 5): it
//! builds plain values and never runs code. Globals stay names, calls (`REDUCE`, `NEWOBJ`)
//! stay a callable with its arguments, persistent ids stay values: the caller reads meaning
//! into them. `collections.OrderedDict()` becomes a dict so a state dict's items land in it.
//! Memoized containers are copies taken when memoized (enough for state dicts, whose shared
//! objects, the storages, never change after they are made).

use super::le_reader::LeReader;
use crate::error::{Error, Result};
use std::collections::HashMap;

/// A value of the object graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// A bool.
    Bool(bool),
    /// An int that fits 64 bits.
    Int(i64),
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
    /// bytes.
    Bytes(Vec<u8>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A list.
    List(Vec<Value>),
    /// A dict (or OrderedDict), items in insertion order.
    Dict(Vec<(Value, Value)>),
    /// A global by module and name (`torch._utils._rebuild_tensor_v2`).
    Global(String, String),
    /// A call of `callable` with `args` (a tuple), the object state `BUILD` set, if any.
    Call {
        /// What is called.
        callable: Box<Value>,
        /// Its arguments.
        args: Box<Value>,
        /// The state `BUILD` gave the result.
        state: Option<Box<Value>>,
    },
    /// A persistent id (PyTorch: a storage reference).
    PersistentId(Box<Value>),
}

impl Value {
    /// The str this is, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The int this is, if it is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// The items of a tuple or list.
    pub fn as_items(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(v) | Value::List(v) => Some(v),
            _ => None,
        }
    }
}

fn bad(detail: impl Into<String>) -> Error {
    Error::format("pickle", detail)
}

/// What sits on the stack: a value, or a mark.
#[derive(Debug, Clone)]
enum Slot {
    Mark,
    Value(Value),
}

struct Machine<'a> {
    r: LeReader<'a>,
    stack: Vec<Slot>,
    memo: HashMap<u32, Value>,
}

impl<'a> Machine<'a> {
    fn line(&mut self) -> Result<String> {
        let rest = &self.r.bytes[self.r.at..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("truncated"))?;
        let text = String::from_utf8(rest[..n].to_vec()).map_err(|_| bad("a name is not UTF-8"))?;
        self.r.at += n + 1;
        Ok(text)
    }
    fn sized(&mut self, len: u64) -> Result<&'a [u8]> {
        let len = usize::try_from(len).map_err(|_| bad("a length overflows"))?;
        self.r.take(len)
    }
    fn string(&mut self, len: u64) -> Result<Value> {
        let bytes = self.sized(len)?;
        String::from_utf8(bytes.to_vec())
            .map(Value::Str)
            .map_err(|_| bad("a str is not UTF-8"))
    }

    fn push(&mut self, v: Value) {
        self.stack.push(Slot::Value(v));
    }
    fn pop(&mut self) -> Result<Value> {
        match self.stack.pop() {
            Some(Slot::Value(v)) => Ok(v),
            Some(Slot::Mark) => Err(bad("a mark where a value was expected")),
            None => Err(bad("stack underflow")),
        }
    }
    fn top(&mut self) -> Result<&mut Value> {
        match self.stack.last_mut() {
            Some(Slot::Value(v)) => Ok(v),
            _ => Err(bad("no value on the stack")),
        }
    }
    /// The values above the topmost mark, the mark removed.
    fn pop_mark(&mut self) -> Result<Vec<Value>> {
        let mark = self
            .stack
            .iter()
            .rposition(|s| matches!(s, Slot::Mark))
            .ok_or_else(|| bad("no mark"))?;
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        Ok(items
            .into_iter()
            .filter_map(|s| match s {
                Slot::Value(v) => Some(v),
                Slot::Mark => None,
            })
            .collect())
    }
    fn memoize(&mut self, key: u32) -> Result<()> {
        let v = self.top()?.clone();
        self.memo.insert(key, v);
        Ok(())
    }
    fn recall(&mut self, key: u32) -> Result<()> {
        let v = self
            .memo
            .get(&key)
            .cloned()
            .ok_or_else(|| bad(format!("memo {key} is unset")))?;
        self.push(v);
        Ok(())
    }
    fn set_items(&mut self, items: Vec<Value>) -> Result<()> {
        if !items.len().is_multiple_of(2) {
            return Err(bad("SETITEMS with an odd number of values"));
        }
        let Value::Dict(dict) = self.top()? else {
            return Err(bad("SETITEMS on something that is not a dict"));
        };
        let mut items = items.into_iter();
        while let (Some(k), Some(v)) = (items.next(), items.next()) {
            dict.push((k, v));
        }
        Ok(())
    }
    fn append(&mut self, items: Vec<Value>) -> Result<()> {
        match self.top()? {
            Value::List(list) => {
                list.extend(items);
                Ok(())
            }
            _ => Err(bad("APPENDS on something that is not a list")),
        }
    }
    fn call(callable: Value, args: Value) -> Value {
        if matches!(&callable, Value::Global(m, n) if m == "collections" && n == "OrderedDict") {
            return Value::Dict(Vec::new());
        }
        Value::Call {
            callable: Box::new(callable),
            args: Box::new(args),
            state: None,
        }
    }
    fn long(bytes: &[u8]) -> Result<Value> {
        if bytes.len() > 8 {
            return Err(Error::Unsupported(
                "a pickled int wider than 64 bits".into(),
            ));
        }
        if bytes.is_empty() {
            return Ok(Value::Int(0));
        }
        let negative = bytes[bytes.len() - 1] & 0x80 != 0;
        let mut a = [if negative { 0xff } else { 0 }; 8];
        a[..bytes.len()].copy_from_slice(bytes);
        Ok(Value::Int(i64::from_le_bytes(a)))
    }

    fn run(&mut self) -> Result<Value> {
        loop {
            let op = self.r.u8()?;
            match op {
                0x80 => {
                    let protocol = self.r.u8()?;
                    if protocol > 5 {
                        return Err(Error::Unsupported(format!("pickle protocol {protocol}")));
                    }
                }
                0x95 => {
                    self.r.u64()?; // FRAME: a length hint
                }
                b'.' => return self.pop(),
                b'(' => self.stack.push(Slot::Mark),
                b'}' => self.push(Value::Dict(Vec::new())),
                b']' => self.push(Value::List(Vec::new())),
                b')' => self.push(Value::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Value::Tuple(items));
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(items));
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    self.push(Value::Dict(Vec::new()));
                    self.set_items(items)?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < n {
                        return Err(bad("stack underflow"));
                    }
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push(Value::Tuple(items));
                }
                b'X' => {
                    let n = u64::from(self.r.u32()?);
                    let v = self.string(n)?;
                    self.push(v);
                }
                0x8c => {
                    let n = u64::from(self.r.u8()?);
                    let v = self.string(n)?;
                    self.push(v);
                }
                0x8d => {
                    let n = self.r.u64()?;
                    let v = self.string(n)?;
                    self.push(v);
                }
                b'T' => {
                    let n = u64::from(self.r.u32()?);
                    let v = self.string(n)?;
                    self.push(v);
                }
                b'U' => {
                    let n = u64::from(self.r.u8()?);
                    let v = self.string(n)?;
                    self.push(v);
                }
                b'B' => {
                    let n = u64::from(self.r.u32()?);
                    let v = self.sized(n)?.to_vec();
                    self.push(Value::Bytes(v));
                }
                b'C' => {
                    let n = u64::from(self.r.u8()?);
                    let v = self.sized(n)?.to_vec();
                    self.push(Value::Bytes(v));
                }
                0x8e => {
                    let n = self.r.u64()?;
                    let v = self.sized(n)?.to_vec();
                    self.push(Value::Bytes(v));
                }
                b'J' => {
                    let b = self.r.take(4)?;
                    self.push(Value::Int(i64::from(i32::from_le_bytes([
                        b[0], b[1], b[2], b[3],
                    ]))));
                }
                b'K' => {
                    let v = self.r.u8()?;
                    self.push(Value::Int(i64::from(v)));
                }
                b'M' => {
                    let v = self.r.u16()?;
                    self.push(Value::Int(i64::from(v)));
                }
                0x8a => {
                    let n = u64::from(self.r.u8()?);
                    let v = Self::long(self.sized(n)?)?;
                    self.push(v);
                }
                0x8b => {
                    let n = u64::from(self.r.u32()?);
                    let v = Self::long(self.sized(n)?)?;
                    self.push(v);
                }
                b'G' => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(self.r.take(8)?);
                    self.push(Value::Float(f64::from_be_bytes(a)));
                }
                b'N' => self.push(Value::None),
                0x88 => self.push(Value::Bool(true)),
                0x89 => self.push(Value::Bool(false)),
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.push(Value::Global(module, name));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module, name) {
                        (Value::Str(m), Value::Str(n)) => self.push(Value::Global(m, n)),
                        _ => return Err(bad("STACK_GLOBAL without two strs")),
                    }
                }
                b'q' => {
                    let key = u32::from(self.r.u8()?);
                    self.memoize(key)?;
                }
                b'r' => {
                    let key = self.r.u32()?;
                    self.memoize(key)?;
                }
                0x94 => {
                    let key = u32::try_from(self.memo.len()).map_err(|_| bad("memo overflow"))?;
                    self.memoize(key)?;
                }
                b'h' => {
                    let key = u32::from(self.r.u8()?);
                    self.recall(key)?;
                }
                b'j' => {
                    let key = self.r.u32()?;
                    self.recall(key)?;
                }
                b'Q' => {
                    let pid = self.pop()?;
                    self.push(Value::PersistentId(Box::new(pid)));
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.push(Self::call(callable, args));
                }
                0x81 => {
                    let args = self.pop()?;
                    let class = self.pop()?;
                    self.push(Self::call(class, args));
                }
                b'b' => {
                    let state = self.pop()?;
                    match self.top()? {
                        Value::Call { state: slot, .. } => *slot = Some(Box::new(state)),
                        // An OrderedDict's state (its `_metadata`) is not needed.
                        Value::Dict(_) => {}
                        _ => return Err(bad("BUILD on a value that takes no state")),
                    }
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                b'0' => {
                    self.stack.pop().ok_or_else(|| bad("stack underflow"))?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.push(v);
                }
                other => {
                    return Err(Error::Unsupported(format!(
                        "pickle opcode 0x{other:02x} at byte {}",
                        self.r.at - 1
                    )));
                }
            }
        }
    }
}

/// Unpickles `bytes` (one pickle, up to its STOP).
pub fn load(bytes: &[u8]) -> Result<Value> {
    Machine {
        r: LeReader::new(bytes, "pickle"),
        stack: Vec::new(),
        memo: HashMap::new(),
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_unknown_input_fail_cleanly() {
        assert!(load(&[]).is_err());
        assert!(load(&[0x80, 2, b'X', 10, 0, 0, 0, b'a']).is_err());
        assert!(load(&[0x80, 2, b'!']).is_err());
        assert!(load(b".").is_err());
        assert!(load(b"u.").is_err());
    }

    #[test]
    fn ints_and_longs() {
        // protocol 2: (1, -2, 300, 2**40, -2**40)
        let p = [
            0x80, 2, b'(', b'K', 1, b'J', 0xfe, 0xff, 0xff, 0xff, b'M', 0x2c, 1, 0x8a, 6, 0, 0, 0,
            0, 0, 1, 0x8a, 6, 0, 0, 0, 0, 0, 0xff, b't', b'.',
        ];
        assert_eq!(
            load(&p).ok(),
            Some(Value::Tuple(vec![
                Value::Int(1),
                Value::Int(-2),
                Value::Int(300),
                Value::Int(1 << 40),
                Value::Int(-(1 << 40)),
            ]))
        );
    }
}

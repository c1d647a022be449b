/// An AMF value. Objects keep their keys in wire order (players and tools print them in order,
/// and `onMetaData` is compared byte for byte in tests).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Boolean(bool),
    String(String),
    /// Anonymous object (AMF0 0x03, AMF3 dynamic object without class name).
    Object(Vec<(String, Value)>),
    Null,
    Undefined,
    /// AMF0 ECMA array (0x08): associative array; what `onMetaData` uses.
    EcmaArray(Vec<(String, Value)>),
    /// AMF0 strict array (0x0A), AMF3 dense array.
    StrictArray(Vec<Value>),
    /// Milliseconds since the epoch, and the AMF0 time zone field (ignored by everyone).
    Date {
        millis: f64,
        timezone: i16,
    },
    /// AMF0 XML document (0x0F) / AMF3 XML.
    Xml(String),
    /// AMF0 typed object (0x10) / AMF3 object with a class name.
    TypedObject {
        class_name: String,
        properties: Vec<(String, Value)>,
    },
    /// AMF3 ByteArray.
    ByteArray(Vec<u8>),
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Xml(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// Key/value pairs of an object, ECMA array or typed object.
    pub fn properties(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(p) | Value::EcmaArray(p) => Some(p),
            Value::TypedObject { properties, .. } => Some(properties),
            _ => None,
        }
    }

    /// The first property named `key` of an object-like value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.properties()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Builds an anonymous object from pairs, keeping their order.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Builds an ECMA array from pairs, keeping their order.
    pub fn ecma_array<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::EcmaArray(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Number(n.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

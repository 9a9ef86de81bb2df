//! Response head serialization (RFC 9112 §4, §6): status line and fields,
//! appended to a caller's buffer.

/// The reason phrase for a status code (RFC 9110 §15), or "" when unknown.
pub fn reason_phrase(status: u16) -> &'static str {
    let _ = status;
    todo!("reasons")
}

/// Append `HTTP/1.1 <status> <reason>\r\n` to `out`.
pub fn encode_status_line(status: u16, out: &mut Vec<u8>) {
    let _ = (status, out);
    todo!("status line")
}

/// Append one `name: value\r\n` field line to `out`.
pub fn encode_field(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

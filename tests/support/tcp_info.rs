//! What the kernel counts for a test's socket (Linux `TCP_INFO`), to check
//! how a response travelled, not only what arrived.

use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// How many TCP segments `stream` has received so far, the handshake's
/// included.
pub fn segments_received(stream: &TcpStream) -> u32 {
    // SAFETY: tcp_info is plain integers, so all zeroes is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: the pointer and length describe `info`, which outlives the
    // call; the kernel writes at most `len` bytes and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "TCP_INFO: {}", std::io::Error::last_os_error());
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_segs_in) + 4;
    assert!(
        len as usize >= needed,
        "this kernel's TCP_INFO has no tcpi_segs_in"
    );
    info.tcpi_segs_in
}

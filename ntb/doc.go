// Package ntb encodes and decodes NCM Transfer Blocks (NTBs), the framing
// that USB CDC NCM and MBIM functions use on their bulk data pipes.
//
// # Format
//
// One USB transfer carries one NTB: a batch of datagrams (IP packets for
// MBIM, Ethernet frames for NCM) plus the tables needed to find them again.
// All integers are little-endian. An NTB comes in a 16-bit and a 32-bit
// flavour, chosen once per function with SET_NTB_FORMAT:
//
//   - The transfer header (NTH16 "NCMH", 12 bytes, or NTH32 "ncmh", 16
//     bytes) opens the block. It gives its own length, a sequence number,
//     the total block length and the offset of the first datagram pointer
//     table (NDP).
//
//   - An NDP (NDP16 or NDP32) starts with a signature saying what its
//     datagrams are, its own length and the offset of the next NDP (zero
//     for the last one), followed by (offset, length) pairs, one per
//     datagram, closed by a pair of zeros. NDPs may sit anywhere in the
//     block after the header, on 4-byte boundaries, and they form a chain.
//
//   - MBIM multiplexes sessions over one pipe through the NDP signature:
//     "IPS" followed by a session ID byte for IP traffic of that session,
//     "DSS" plus a byte for device service streams; the 32-bit variants are
//     spelt in lower case ("ips", "dss"). Plain NCM uses "NCM0"/"ncm0" (and
//     "NCM1"/"ncm1" when datagrams carry a CRC). So one block holds one NDP
//     per session or stream that has data in it.
//
//   - The datagrams lie between or after the tables. The function states,
//     in its NTB parameter structure, how datagrams should be aligned
//     (offset modulo a divisor equal to a remainder), how NDPs should be
//     aligned and how large a block may be, separately for each direction.
//
// # Use
//
// Parse (or Parser.Parse) checks a received block completely before
// anything is handed out, then Block.Iter, Block.Walk, Block.All, Walk or
// Datagrams give the datagrams as sub-slices of the input: nothing is
// copied and a valid block is parsed without allocating. Malformed input
// yields an *Error naming the structure, its offset and the field at
// fault; its sentinel kind (ErrBounds, ErrLoop, ...) works with errors.Is.
//
// Builder goes the other way: Add datagrams per (Kind, session), then Bytes
// returns one finished block honouring the alignment and size settings.
//
// Reader and Writer move whole blocks over an io.Reader or io.Writer where
// NTBs follow each other back to back.
package ntb

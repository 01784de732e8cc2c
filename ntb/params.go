package ntb

import "encoding/binary"

// Defaults, following the Linux cdc_ncm/cdc_mbim host drivers
// (include/linux/usb/cdc_ncm.h).
const (
	// DefaultNTBInSize and DefaultNTBOutSize are the NTB sizes Linux starts
	// with in each direction (CDC_NCM_NTB_DEF_SIZE_RX/TX), lowered to the
	// device's dwNtbInMaxSize/dwNtbOutMaxSize when those are smaller.
	DefaultNTBInSize  = 16384
	DefaultNTBOutSize = 16384
	// LinuxMaxNTBSize is the upper bound Linux allows for either direction
	// (CDC_NCM_NTB_MAX_SIZE_RX/TX) in current kernels; older kernels used
	// 32768 (OldLinuxMaxNTBSize).
	LinuxMaxNTBSize    = 65536
	OldLinuxMaxNTBSize = 32768
	// DefaultDivisor, DefaultRemainder and DefaultNdpAlignment are what Linux
	// falls back to when the device's divisor or alignment is unusable (not
	// a power of two, below 4, or not below the NTB size): 4-byte
	// alignment for both datagrams and NDPs (USB_CDC_NCM_NDP_ALIGN_MIN_SIZE).
	DefaultDivisor      = 4
	DefaultRemainder    = 0
	DefaultNdpAlignment = 4
	// MinNCMDatagramSize and MinMBIMDatagramSize are the smallest maximum
	// datagram sizes a function may announce (NCM 6.2.9, MBIM 8.1.3);
	// DefaultMaxDatagramSize is Linux's default maximum (8192).
	MinNCMDatagramSize     = 1514
	MinMBIMDatagramSize    = 2048
	DefaultMaxDatagramSize = 8192
	// DefaultReaderMaxSize is the largest block a Reader accepts unless
	// told otherwise; every NTB16 fits.
	DefaultReaderMaxSize = 65536
)

// ParametersLength is the size of the NTB parameter structure returned by
// the GET_NTB_PARAMETERS request.
const ParametersLength = 28

// Bits of Parameters.FormatsSupported.
const (
	FormatsNTB16 = 1 << 0
	FormatsNTB32 = 1 << 1
)

// Parameters is the NTB parameter structure (NCM 1.0 section 6.2.1) that
// a function returns for GET_NTB_PARAMETERS and that MBIM reuses. "In"
// is device to host, "Out" is host to device.
type Parameters struct {
	FormatsSupported    uint16 // bmNtbFormatsSupported: FormatsNTB16 | FormatsNTB32
	InMaxSize           uint32 // dwNtbInMaxSize
	InDivisor           uint16 // wNdpInDivisor
	InPayloadRemainder  uint16 // wNdpInPayloadRemainder
	InAlignment         uint16 // wNdpInAlignment
	OutMaxSize          uint32 // dwNtbOutMaxSize
	OutDivisor          uint16 // wNdpOutDivisor
	OutPayloadRemainder uint16 // wNdpOutPayloadRemainder
	OutAlignment        uint16 // wNdpOutAlignment
	OutMaxDatagrams     uint16 // wNtbOutMaxDatagrams, 0 = no limit
}

// DefaultParameters returns parameters matching this package's defaults:
// NTB16 only, 16 KiB in each direction, 4-byte alignment everywhere.
func DefaultParameters() Parameters {
	return Parameters{
		FormatsSupported:    FormatsNTB16,
		InMaxSize:           DefaultNTBInSize,
		InDivisor:           DefaultDivisor,
		InPayloadRemainder:  DefaultRemainder,
		InAlignment:         DefaultNdpAlignment,
		OutMaxSize:          DefaultNTBOutSize,
		OutDivisor:          DefaultDivisor,
		OutPayloadRemainder: DefaultRemainder,
		OutAlignment:        DefaultNdpAlignment,
	}
}

// UnmarshalBinary decodes the structure. b must hold at least
// ParametersLength bytes and its wLength field must be at least that; any
// bytes beyond are ignored.
func (p *Parameters) UnmarshalBinary(b []byte) error {
	if len(b) < ParametersLength {
		return newError(ErrTruncated, "NTBParameters", 0, -1, "",
			"buffer of "+itoa(len(b))+" bytes is shorter than "+itoa(ParametersLength))
	}
	le := binary.LittleEndian
	if wl := int(le.Uint16(b)); wl < ParametersLength {
		return newError(ErrMalformed, "NTBParameters", 0, -1, "wLength",
			itoa(wl)+" is less than "+itoa(ParametersLength))
	}
	*p = Parameters{
		FormatsSupported:    le.Uint16(b[2:]),
		InMaxSize:           le.Uint32(b[4:]),
		InDivisor:           le.Uint16(b[8:]),
		InPayloadRemainder:  le.Uint16(b[10:]),
		InAlignment:         le.Uint16(b[12:]),
		OutMaxSize:          le.Uint32(b[16:]),
		OutDivisor:          le.Uint16(b[20:]),
		OutPayloadRemainder: le.Uint16(b[22:]),
		OutAlignment:        le.Uint16(b[24:]),
		OutMaxDatagrams:     le.Uint16(b[26:]),
	}
	return nil
}

// AppendBinary appends the 28-byte encoding of p to b.
func (p Parameters) AppendBinary(b []byte) ([]byte, error) {
	le := binary.LittleEndian
	b = le.AppendUint16(b, ParametersLength)
	b = le.AppendUint16(b, p.FormatsSupported)
	b = le.AppendUint32(b, p.InMaxSize)
	b = le.AppendUint16(b, p.InDivisor)
	b = le.AppendUint16(b, p.InPayloadRemainder)
	b = le.AppendUint16(b, p.InAlignment)
	b = le.AppendUint16(b, 0) // wPadding1
	b = le.AppendUint32(b, p.OutMaxSize)
	b = le.AppendUint16(b, p.OutDivisor)
	b = le.AppendUint16(b, p.OutPayloadRemainder)
	b = le.AppendUint16(b, p.OutAlignment)
	b = le.AppendUint16(b, p.OutMaxDatagrams)
	return b, nil
}

// MarshalBinary returns the 28-byte encoding of p.
func (p Parameters) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, ParametersLength))
}

// NewBuilder returns a Builder for host-to-device blocks of format f that
// follows the Out half of p, sanitised the way Linux does it: the size
// defaults to DefaultNTBOutSize (capped by OutMaxSize, and by 65535 for
// NTB16); a divisor or NDP alignment that is not a power of two, is below 4
// or is not below the size falls back to 4; a remainder not below the
// divisor falls back to 0.
func NewBuilder(f Format, p Parameters) *Builder {
	size := DefaultNTBOutSize
	if p.OutMaxSize != 0 && uint64(p.OutMaxSize) < uint64(size) {
		size = int(p.OutMaxSize)
	}
	if f != NTB32 && size > 0xFFFF {
		size = 0xFFFF
	}
	usable := func(v uint16) bool {
		return v >= 4 && v&(v-1) == 0 && int(v) < size
	}
	div, align := int(p.OutDivisor), int(p.OutAlignment)
	if !usable(p.OutDivisor) {
		div = DefaultDivisor
	}
	if !usable(p.OutAlignment) {
		align = DefaultNdpAlignment
	}
	rem := int(p.OutPayloadRemainder)
	if rem >= div {
		rem = DefaultRemainder
	}
	if f == 0 {
		f = NTB16
	}
	return &Builder{
		Format:       f,
		MaxSize:      size,
		Divisor:      div,
		Remainder:    rem,
		NdpAlignment: align,
		MaxDatagrams: int(p.OutMaxDatagrams),
	}
}

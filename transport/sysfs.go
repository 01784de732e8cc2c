package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Device is an MBIM control port found by Discover.
type Device struct {
	Path          string   `json:"path"`   // device node, e.g. /dev/cdc-wdm0 or /dev/wwan0mbim0
	Kind          string   `json:"kind"`   // "cdc-wdm" or "wwan"
	Driver        string   `json:"driver"` // cdc_mbim; for WWAN the nearest bound driver (mhi-pci-generic, iosm, mtk_t7xx, ...)
	NetInterfaces []string `json:"net_interfaces"`
	Bus           string   `json:"bus"` // "usb" or "pci" ("" if neither was found)
	VendorID      uint16   `json:"vendor_id"`
	ProductID     uint16   `json:"product_id"`
	USBPath       string   `json:"usb_path,omitempty"` // e.g. "2-3" or "1-1.4"
	PCISlot       string   `json:"pci_slot,omitempty"` // e.g. "0000:01:00.0"
	Manufacturer  string   `json:"manufacturer,omitempty"`
	Product       string   `json:"product,omitempty"`
	Serial        string   `json:"serial,omitempty"`
	SysfsPath     string   `json:"sysfs_path"` // the port's directory under /sys/devices
	// MBIM is the MBIM functional descriptor of a USB function, if found.
	MBIM *MBIMDescriptor `json:"mbim,omitempty"`
}

// MBIMDescriptor is the MBIM functional descriptor (CDC class-specific
// descriptor type 0x24, subtype 0x1B) of a USB MBIM function.
type MBIMDescriptor struct {
	Version             uint16 `json:"version"` // bcdMBIMVersion, e.g. 0x0100
	MaxControlMessage   uint16 `json:"max_control_message"`
	NumberFilters       uint8  `json:"number_filters"`
	MaxFilterSize       uint8  `json:"max_filter_size"`
	MaxSegmentSize      uint16 `json:"max_segment_size"`
	NetworkCapabilities uint8  `json:"network_capabilities"`
}

const (
	usbDTConfig    = 0x02
	usbDTInterface = 0x04
	usbDTCSIface   = 0x24
	cdcMBIMSubtype = 0x1B
	mbimDescLen    = 12
)

// ParseMBIMDescriptor finds the MBIM functional descriptor in raw USB
// descriptors (the contents of a USB device's sysfs "descriptors" file: the
// device descriptor followed by the configuration descriptors). It prefers
// the one belonging to interface iface in configuration config; pass -1 for
// either to accept any.
func ParseMBIMDescriptor(raw []byte, config, iface int) (MBIMDescriptor, bool) {
	var best, any MBIMDescriptor
	bestScore := -1
	curCfg, curIf := -1, -1
	for len(raw) >= 2 {
		l := int(raw[0])
		if l < 2 || l > len(raw) {
			break
		}
		d := raw[:l]
		raw = raw[l:]
		switch d[1] {
		case usbDTConfig:
			if l >= 6 {
				curCfg, curIf = int(d[5]), -1
			}
		case usbDTInterface:
			if l >= 3 {
				curIf = int(d[2])
			}
		case usbDTCSIface:
			if l < mbimDescLen || d[2] != cdcMBIMSubtype {
				continue
			}
			m := MBIMDescriptor{
				Version:             uint16(d[3]) | uint16(d[4])<<8,
				MaxControlMessage:   uint16(d[5]) | uint16(d[6])<<8,
				NumberFilters:       d[7],
				MaxFilterSize:       d[8],
				MaxSegmentSize:      uint16(d[9]) | uint16(d[10])<<8,
				NetworkCapabilities: d[11],
			}
			score := 0
			if iface < 0 || curIf == iface {
				score += 2
			}
			if config < 0 || curCfg == config {
				score++
			}
			if score > bestScore {
				best, bestScore = m, score
			}
			any = m
		}
	}
	if bestScore < 0 {
		return any, false
	}
	return best, true
}

func readAttr(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func readHex(dir, name string) (uint64, bool) {
	s := strings.TrimPrefix(readAttr(dir, name), "0x")
	v, err := strconv.ParseUint(s, 16, 64)
	return v, err == nil && s != ""
}

func linkBase(path string) string {
	t, err := os.Readlink(path)
	if err != nil {
		return ""
	}
	return filepath.Base(t)
}

// walkUp returns the first of dir and its ancestors (not leaving root)
// for which pred is true, or "".
func walkUp(dir, root string, pred func(string) bool) string {
	root = filepath.Clean(root)
	for d := filepath.Clean(dir); strings.HasPrefix(d, root+string(filepath.Separator)); d = filepath.Dir(d) {
		if pred(d) {
			return d
		}
	}
	return ""
}

func isUSBDevice(d string) bool {
	_, err := os.Stat(filepath.Join(d, "descriptors"))
	return err == nil && readAttr(d, "idVendor") != ""
}

func isPCIDevice(d string) bool { return linkBase(filepath.Join(d, "subsystem")) == "pci" }

func hasDriver(d string) bool {
	_, err := os.Lstat(filepath.Join(d, "driver"))
	return err == nil
}

// mbimFromSysfs reads the MBIM functional descriptor for the port whose
// sysfs directory (resolved, under root/devices) is portDir. The interface
// number comes from the port's "device" (the USB interface) and the active
// configuration from the USB device.
func mbimFromSysfs(root, portDir string) (*MBIMDescriptor, string) {
	start := portDir
	iface := -1
	if d, err := filepath.EvalSymlinks(filepath.Join(portDir, "device")); err == nil {
		start = d
		if v, ok := readHex(d, "bInterfaceNumber"); ok {
			iface = int(v)
		}
	}
	usb := walkUp(start, filepath.Join(root, "devices"), isUSBDevice)
	if usb == "" {
		return nil, ""
	}
	raw, err := os.ReadFile(filepath.Join(usb, "descriptors"))
	if err != nil {
		return nil, usb
	}
	config := -1
	if v, err := strconv.Atoi(readAttr(usb, "bConfigurationValue")); err == nil {
		config = v
	}
	m, ok := ParseMBIMDescriptor(raw, config, iface)
	if !ok {
		return nil, usb
	}
	return &m, usb
}

// maxControlFromSysfs returns wMaxControlMessage for the character device
// major:minor, or 0.
func maxControlFromSysfs(root string, major, minor uint32) int {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(root, "dev", "char", fmt.Sprintf("%d:%d", major, minor)))
	if err != nil {
		return 0
	}
	m, _ := mbimFromSysfs(root, dir)
	if m == nil || m.MaxControlMessage < 64 {
		return 0
	}
	return int(m.MaxControlMessage)
}

// charDevSubsystem returns the sysfs subsystem (class) name and the device
// name of the character device major:minor ("usbmisc", "cdc-wdm0").
func charDevSubsystem(root string, major, minor uint32) (subsystem, name string) {
	p := filepath.Join(root, "dev", "char", fmt.Sprintf("%d:%d", major, minor))
	dir, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", ""
	}
	return linkBase(filepath.Join(dir, "subsystem")), filepath.Base(dir)
}

func listNet(dir string) []string {
	ents, err := os.ReadDir(filepath.Join(dir, "net"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// fillBus records the USB or PCI device that dir hangs off.
func fillBus(d *Device, root, dir string) {
	devices := filepath.Join(root, "devices")
	b := walkUp(dir, devices, func(p string) bool { return isUSBDevice(p) || isPCIDevice(p) })
	if b == "" {
		return
	}
	if isUSBDevice(b) {
		d.Bus = "usb"
		d.USBPath = filepath.Base(b)
		v, _ := readHex(b, "idVendor")
		p, _ := readHex(b, "idProduct")
		d.VendorID, d.ProductID = uint16(v), uint16(p)
		d.Manufacturer = readAttr(b, "manufacturer")
		d.Product = readAttr(b, "product")
		d.Serial = readAttr(b, "serial")
		return
	}
	d.Bus = "pci"
	d.PCISlot = filepath.Base(b)
	v, _ := readHex(b, "vendor")
	p, _ := readHex(b, "device")
	d.VendorID, d.ProductID = uint16(v), uint16(p)
}

// Discover lists the MBIM control ports on this machine: cdc-wdm devices
// bound to the cdc_mbim driver (/sys/class/usbmisc/cdc-wdm*) and WWAN ports
// of type MBIM (/sys/class/wwan/*/type, device nodes /dev/wwanNmbimN).
// sysfsRoot "" means "/sys"; tests pass a fake tree. Missing classes are
// not errors: a machine without modems yields an empty list.
func Discover(sysfsRoot string) ([]Device, error) {
	root := sysfsRoot
	if root == "" {
		root = "/sys"
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("transport: discover: %w", err)
	}
	// Resolve root itself so that prefixes of resolved paths match.
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	var out []Device
	seen := map[string]bool{}

	// cdc-wdm: /sys/class/usbmisc on current kernels, /sys/class/usb on
	// very old ones.
	for _, class := range []string{"usbmisc", "usb"} {
		ents, err := os.ReadDir(filepath.Join(root, "class", class))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("transport: discover: %w", err)
		}
		for _, e := range ents {
			name := e.Name()
			if !strings.HasPrefix(name, "cdc-wdm") || seen[name] {
				continue
			}
			dir, err := filepath.EvalSymlinks(filepath.Join(root, "class", class, name))
			if err != nil {
				continue
			}
			iface, err := filepath.EvalSymlinks(filepath.Join(dir, "device"))
			if err != nil {
				continue
			}
			drv := linkBase(filepath.Join(iface, "driver"))
			if drv != "cdc_mbim" {
				continue
			}
			seen[name] = true
			d := Device{
				Path:          "/dev/" + name,
				Kind:          "cdc-wdm",
				Driver:        drv,
				NetInterfaces: listNet(iface),
				SysfsPath:     dir,
			}
			fillBus(&d, root, iface)
			d.MBIM, _ = mbimFromSysfs(root, dir)
			out = append(out, d)
		}
	}

	// WWAN ports. /sys/class/wwan holds both WWAN devices (wwan0) and
	// their ports (wwan0mbim0, wwan0at0, ...); only ports have "type".
	ents, err := os.ReadDir(filepath.Join(root, "class", "wwan"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("transport: discover: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		dir, err := filepath.EvalSymlinks(filepath.Join(root, "class", "wwan", name))
		if err != nil || readAttr(dir, "type") != "MBIM" {
			continue
		}
		d := Device{Path: "/dev/" + name, Kind: "wwan", SysfsPath: dir}
		// The port's parent is the WWAN device; its net/ lists the links
		// created by the WWAN core (wwan0, ...).
		parent := filepath.Dir(dir)
		d.NetInterfaces = listNet(parent)
		if drv := walkUp(dir, filepath.Join(root, "devices"), hasDriver); drv != "" {
			d.Driver = linkBase(filepath.Join(drv, "driver"))
		}
		fillBus(&d, root, dir)
		d.MBIM, _ = mbimFromSysfs(root, dir)
		out = append(out, d)
	}

	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i].Path, out[j].Path) })
	return out, nil
}

// naturalLess orders "cdc-wdm2" before "cdc-wdm10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		ad, bd := isDigit(a[0]), isDigit(b[0])
		if ad && bd {
			i, j := digits(a), digits(b)
			na, _ := strconv.ParseUint(a[:i], 10, 64)
			nb, _ := strconv.ParseUint(b[:j], 10, 64)
			if na != nb {
				return na < nb
			}
			a, b = a[i:], b[j:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

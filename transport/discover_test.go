package transport

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// fakeSys builds a sysfs-like tree under a temporary root, with relative
// symbolic links as the real one has.
type fakeSys struct {
	t    *testing.T
	root string
}

func (f fakeSys) abs(rel string) string { return filepath.Join(f.root, rel) }

func (f fakeSys) file(rel, content string) {
	f.t.Helper()
	p := f.abs(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f fakeSys) dir(rel string) {
	f.t.Helper()
	if err := os.MkdirAll(f.abs(rel), 0o755); err != nil {
		f.t.Fatal(err)
	}
}

// link makes rel a relative symlink to target (both relative to root).
func (f fakeSys) link(rel, target string) {
	f.t.Helper()
	p := f.abs(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	f.dir(target)
	r, err := filepath.Rel(filepath.Dir(p), f.abs(target))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.Symlink(r, p); err != nil {
		f.t.Fatal(err)
	}
}

// usbDescriptors assembles a sysfs "descriptors" file: device descriptor
// then each configuration (wTotalLength filled in).
func usbDescriptors(vid, pid uint16, configs ...[][]byte) []byte {
	out := []byte{0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40,
		byte(vid), byte(vid >> 8), byte(pid), byte(pid >> 8), 0x06, 0x00, 0x01, 0x02, 0x03, byte(len(configs))}
	for _, cfg := range configs {
		var body []byte
		for _, d := range cfg[1:] {
			body = append(body, d...)
		}
		c := append([]byte(nil), cfg[0]...)
		total := len(c) + len(body)
		c[2], c[3] = byte(total), byte(total>>8)
		out = append(out, c...)
		out = append(out, body...)
	}
	return out
}

func cfgDesc(value, nIf byte) []byte {
	return []byte{0x09, 0x02, 0, 0, nIf, value, 0x00, 0xa0, 0xfa}
}

func ifDesc(num, alt, nEP, class, sub, proto byte) []byte {
	return []byte{0x09, 0x04, num, alt, nEP, class, sub, proto, 0x00}
}

func mbimDesc(maxCtl uint16) []byte {
	return []byte{0x0c, 0x24, 0x1b, 0x00, 0x01, byte(maxCtl), byte(maxCtl >> 8), 0x20, 0x80, 0xdc, 0x05, 0x20}
}

// mbimFunction is the descriptor set of an MBIM function: communication
// interface ci (with CDC header, union, MBIM, MBIM extended and an
// interrupt endpoint) and data interface ci+1 (alt 0 empty, alt 1 bulk).
func mbimFunction(ci byte, maxCtl uint16) [][]byte {
	return [][]byte{
		{0x08, 0x0b, ci, 0x02, 0x02, 0x0e, 0x00, 0x00}, // IAD
		ifDesc(ci, 0, 1, 0x02, 0x0e, 0x00),
		{0x05, 0x24, 0x00, 0x10, 0x01},                   // CDC header
		{0x05, 0x24, 0x06, ci, ci + 1},                   // CDC union
		mbimDesc(maxCtl),                                 // MBIM functional
		{0x08, 0x24, 0x1c, 0x00, 0x01, 0x20, 0xdc, 0x05}, // MBIM extended
		{0x07, 0x05, 0x82, 0x03, 0x40, 0x00, 0x09},       // interrupt IN
		ifDesc(ci+1, 0, 0, 0x0a, 0x00, 0x02),
		ifDesc(ci+1, 1, 2, 0x0a, 0x00, 0x02),
		{0x07, 0x05, 0x8e, 0x02, 0x00, 0x02, 0x00},
		{0x07, 0x05, 0x0f, 0x02, 0x00, 0x02, 0x00},
	}
}

func config(value, nIf byte, parts ...[][]byte) [][]byte {
	out := [][]byte{cfgDesc(value, nIf)}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// buildFakeSysfs mirrors a machine with:
//   - a Sierra EM7455 on USB port 2-3, MBIM on interface 12 (cdc-wdm0, wwan0);
//   - a QMI modem on 1-1 whose cdc-wdm1 belongs to qmi_wwan (not MBIM);
//   - a modem behind a hub at 1-2.4 in its second configuration (cdc-wdm2, wwan2);
//   - a PCIe modem on MHI at 0000:01:00.0 with WWAN ports wwan0mbim0 and
//     wwan0at0 and the link wwan1.
func buildFakeSysfs(t *testing.T) (fakeSys, map[string]string) {
	f := fakeSys{t: t, root: t.TempDir()}
	for _, d := range []string{"bus/usb/drivers/usb", "bus/usb/drivers/cdc_mbim", "bus/usb/drivers/qmi_wwan",
		"bus/usb/drivers/option", "bus/pci/drivers/xhci_hcd", "bus/pci/drivers/mhi-pci-generic",
		"bus/pci/drivers/pcieport", "bus/mhi/drivers/mhi_wwan_ctrl", "class/usbmisc", "class/net", "class/wwan", "dev/char"} {
		f.dir(d)
	}
	paths := map[string]string{}

	// PCI: the xHCI controller and a root port.
	xhci := "devices/pci0000:00/0000:00:14.0"
	f.file(xhci+"/vendor", "0x8086\n")
	f.file(xhci+"/device", "0xa36d\n")
	f.link(xhci+"/subsystem", "bus/pci")
	f.link(xhci+"/driver", "bus/pci/drivers/xhci_hcd")

	usbDev := func(dir, vid, pid, mfr, prod, serial, cfg string, desc []byte) {
		f.file(dir+"/idVendor", vid+"\n")
		f.file(dir+"/idProduct", pid+"\n")
		if mfr != "" {
			f.file(dir+"/manufacturer", mfr+"\n")
		}
		if prod != "" {
			f.file(dir+"/product", prod+"\n")
		}
		if serial != "" {
			f.file(dir+"/serial", serial+"\n")
		}
		f.file(dir+"/bConfigurationValue", cfg+"\n")
		f.file(dir+"/descriptors", string(desc))
		f.link(dir+"/subsystem", "bus/usb")
		f.link(dir+"/driver", "bus/usb/drivers/usb")
	}
	usbIf := func(dir, num, class, driver string) {
		f.file(dir+"/bInterfaceNumber", num+"\n")
		f.file(dir+"/bInterfaceClass", class+"\n")
		f.link(dir+"/subsystem", "bus/usb")
		if driver != "" {
			f.link(dir+"/driver", "bus/usb/drivers/"+driver)
		}
	}
	wdm := func(ifdir, name, devnum string) string {
		d := ifdir + "/usbmisc/" + name
		f.file(d+"/dev", devnum+"\n")
		f.file(d+"/uevent", "MAJOR=180\nDEVNAME="+name+"\n")
		f.link(d+"/device", ifdir)
		f.link(d+"/subsystem", "class/usbmisc")
		f.link("class/usbmisc/"+name, d)
		f.link("dev/char/"+devnum, d)
		return d
	}
	netdev := func(parent, name string) {
		d := parent + "/net/" + name
		f.file(d+"/ifindex", "5\n")
		f.link(d+"/subsystem", "class/net")
		f.link(d+"/device", parent)
		f.link("class/net/"+name, d)
	}

	// Root hubs.
	usbDev(xhci+"/usb1", "1d6b", "0002", "Linux 6.18 xhci-hcd", "xHCI Host Controller", "0000:00:14.0", "1",
		usbDescriptors(0x1d6b, 0x0002, config(1, 1, [][]byte{ifDesc(0, 0, 1, 0x09, 0, 0)})))
	usbDev(xhci+"/usb2", "1d6b", "0003", "Linux 6.18 xhci-hcd", "xHCI Host Controller", "0000:00:14.0", "1",
		usbDescriptors(0x1d6b, 0x0003, config(1, 1, [][]byte{ifDesc(0, 0, 1, 0x09, 0, 0)})))

	// 1. EM7455 at 2-3: interfaces 0,2,3 serial (option), 12/13 MBIM.
	em := xhci + "/usb2/2-3"
	usbDev(em, "1199", "9079", "Sierra Wireless, Incorporated", "Sierra Wireless EM7455 Qualcomm\u00ae Snapdragon\u2122 X7 LTE-A", "LF71234567", "1",
		usbDescriptors(0x1199, 0x9079, config(1, 5,
			[][]byte{ifDesc(0, 0, 2, 0xff, 0xff, 0xff), ifDesc(2, 0, 3, 0xff, 0xff, 0xff), ifDesc(3, 0, 3, 0xff, 0xff, 0xff)},
			mbimFunction(12, 0x0800))))
	usbIf(em+"/2-3:1.0", "00", "ff", "option")
	usbIf(em+"/2-3:1.12", "0c", "02", "cdc_mbim")
	usbIf(em+"/2-3:1.13", "0d", "0a", "cdc_mbim")
	paths["cdc-wdm0"] = wdm(em+"/2-3:1.12", "cdc-wdm0", "180:0")
	netdev(em+"/2-3:1.12", "wwan0")

	// 2. QMI modem at 1-1: its cdc-wdm1 is not MBIM.
	qm := xhci + "/usb1/1-1"
	usbDev(qm, "2c7c", "0125", "Quectel", "EC25-AF", "", "1",
		usbDescriptors(0x2c7c, 0x0125, config(1, 1, [][]byte{ifDesc(4, 0, 3, 0xff, 0xff, 0xff)})))
	usbIf(qm+"/1-1:1.4", "04", "ff", "qmi_wwan")
	wdm(qm+"/1-1:1.4", "cdc-wdm1", "180:1")
	netdev(qm+"/1-1:1.4", "wwp0s20u1i4")

	// 3. Behind a hub at 1-2, port 4, running configuration 2, whose
	// MBIM descriptor differs from configuration 1's.
	f.file(xhci+"/usb1/1-2/idVendor", "05e3\n")
	f.file(xhci+"/usb1/1-2/idProduct", "0608\n")
	f.file(xhci+"/usb1/1-2/descriptors", string(usbDescriptors(0x05e3, 0x0608, config(1, 1, [][]byte{ifDesc(0, 0, 1, 0x09, 0, 0)}))))
	hm := xhci + "/usb1/1-2/1-2.4"
	usbDev(hm, "12d1", "15c1", "HUAWEI Technology", "HUAWEI Mobile", "0123456789ABCDEF", "2",
		usbDescriptors(0x12d1, 0x15c1,
			config(1, 2, mbimFunction(0, 0x0200)),
			config(2, 2, mbimFunction(0, 0x0400))))
	usbIf(hm+"/1-2.4:2.0", "00", "02", "cdc_mbim")
	paths["cdc-wdm2"] = wdm(hm+"/1-2.4:2.0", "cdc-wdm2", "180:2")
	netdev(hm+"/1-2.4:2.0", "wwan2")

	// 4. PCIe modem on MHI, WWAN subsystem.
	rp := "devices/pci0000:00/0000:00:1c.0"
	f.file(rp+"/vendor", "0x8086\n")
	f.file(rp+"/device", "0xa33c\n")
	f.link(rp+"/subsystem", "bus/pci")
	f.link(rp+"/driver", "bus/pci/drivers/pcieport")
	pm := rp + "/0000:01:00.0"
	f.file(pm+"/vendor", "0x17cb\n")
	f.file(pm+"/device", "0x0306\n")
	f.file(pm+"/class", "0x0d4000\n")
	f.link(pm+"/subsystem", "bus/pci")
	f.link(pm+"/driver", "bus/pci/drivers/mhi-pci-generic")
	mhi := pm + "/mhi0"
	f.link(mhi+"/subsystem", "bus/mhi")
	f.link(mhi+"/mhi0_MBIM/subsystem", "bus/mhi")
	f.link(mhi+"/mhi0_MBIM/driver", "bus/mhi/drivers/mhi_wwan_ctrl")
	wd := mhi + "/wwan/wwan0"
	f.link(wd+"/subsystem", "class/wwan")
	f.link("class/wwan/wwan0", wd)
	for _, port := range []struct{ name, typ, dev string }{{"wwan0mbim0", "MBIM", "234:0"}, {"wwan0at0", "AT", "234:1"}} {
		d := wd + "/" + port.name
		f.file(d+"/type", port.typ+"\n")
		f.file(d+"/dev", port.dev+"\n")
		f.link(d+"/subsystem", "class/wwan")
		f.link(d+"/device", wd)
		f.link("class/wwan/"+port.name, d)
		f.link("dev/char/"+port.dev, d)
		paths[port.name] = d
	}
	netdev(wd, "wwan1")
	return f, paths
}

func TestDiscoverFakeSysfs(t *testing.T) {
	f, paths := buildFakeSysfs(t)
	got, err := Discover(f.root)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.EvalSymlinks(f.root)
	want := []Device{
		{
			Path: "/dev/cdc-wdm0", Kind: "cdc-wdm", Driver: "cdc_mbim", NetInterfaces: []string{"wwan0"},
			Bus: "usb", VendorID: 0x1199, ProductID: 0x9079, USBPath: "2-3",
			Manufacturer: "Sierra Wireless, Incorporated",
			Product:      "Sierra Wireless EM7455 Qualcomm\u00ae Snapdragon\u2122 X7 LTE-A",
			Serial:       "LF71234567", SysfsPath: filepath.Join(root, paths["cdc-wdm0"]),
			MBIM: &MBIMDescriptor{Version: 0x0100, MaxControlMessage: 2048, NumberFilters: 0x20, MaxFilterSize: 0x80, MaxSegmentSize: 1500, NetworkCapabilities: 0x20},
		},
		{
			Path: "/dev/cdc-wdm2", Kind: "cdc-wdm", Driver: "cdc_mbim", NetInterfaces: []string{"wwan2"},
			Bus: "usb", VendorID: 0x12d1, ProductID: 0x15c1, USBPath: "1-2.4",
			Manufacturer: "HUAWEI Technology", Product: "HUAWEI Mobile", Serial: "0123456789ABCDEF",
			SysfsPath: filepath.Join(root, paths["cdc-wdm2"]),
			MBIM:      &MBIMDescriptor{Version: 0x0100, MaxControlMessage: 1024, NumberFilters: 0x20, MaxFilterSize: 0x80, MaxSegmentSize: 1500, NetworkCapabilities: 0x20},
		},
		{
			Path: "/dev/wwan0mbim0", Kind: "wwan", Driver: "mhi-pci-generic", NetInterfaces: []string{"wwan1"},
			Bus: "pci", VendorID: 0x17cb, ProductID: 0x0306, PCISlot: "0000:01:00.0",
			SysfsPath: filepath.Join(root, paths["wwan0mbim0"]),
		},
	}
	if !reflect.DeepEqual(got, want) {
		a, _ := json.MarshalIndent(got, "", "  ")
		b, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("Discover:\n%s\nwant:\n%s", a, b)
	}

	// JSON uses snake_case.
	js, err := json.Marshal(got[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(js, &m)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	wantKeys := []string{"bus", "driver", "kind", "manufacturer", "mbim", "net_interfaces", "path", "product", "product_id", "serial", "sysfs_path", "usb_path", "vendor_id"}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Fatalf("JSON keys %v, want %v", keys, wantKeys)
	}
	if !strings.Contains(string(js), `"max_control_message":2048`) {
		t.Fatalf("JSON: %s", js)
	}
}

func TestSysfsCharDevLookup(t *testing.T) {
	f, _ := buildFakeSysfs(t)
	for _, tc := range []struct {
		major, minor uint32
		subsys, name string
		maxCtl       int
	}{
		{180, 0, "usbmisc", "cdc-wdm0", 2048},
		{180, 2, "usbmisc", "cdc-wdm2", 1024},
		{180, 1, "usbmisc", "cdc-wdm1", 0}, // QMI: no MBIM descriptor
		{234, 0, "wwan", "wwan0mbim0", 0},  // PCI: sysfs says nothing
		{99, 9, "", "", 0},
	} {
		s, n := charDevSubsystem(f.root, tc.major, tc.minor)
		if s != tc.subsys || n != tc.name {
			t.Errorf("%d:%d: subsystem %q name %q, want %q %q", tc.major, tc.minor, s, n, tc.subsys, tc.name)
		}
		if got := maxControlFromSysfs(f.root, tc.major, tc.minor); got != tc.maxCtl {
			t.Errorf("%d:%d: max control %d, want %d", tc.major, tc.minor, got, tc.maxCtl)
		}
	}
}

func TestDiscoverEmptyAndReal(t *testing.T) {
	got, err := Discover(t.TempDir())
	if err != nil || len(got) != 0 {
		t.Fatalf("empty tree: %v, %v", got, err)
	}
	if _, err := Discover(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("missing root: no error")
	}
	if _, err := os.Stat("/sys/class"); err != nil {
		t.Skip("no sysfs here")
	}
	devs, err := Discover("")
	if err != nil {
		t.Fatalf("Discover on this machine: %v", err)
	}
	for _, d := range devs {
		t.Logf("found %+v", d)
		if d.Kind != "cdc-wdm" && d.Kind != "wwan" {
			t.Fatalf("bad kind: %+v", d)
		}
	}
}

func TestParseMBIMDescriptor(t *testing.T) {
	raw := usbDescriptors(1, 2,
		config(1, 2, mbimFunction(0, 0x0200)),
		config(2, 4, mbimFunction(0, 0x0400), mbimFunction(2, 0x1000)))
	for _, tc := range []struct {
		cfg, iface int
		want       uint16
		ok         bool
	}{
		{1, 0, 0x0200, true},
		{2, 0, 0x0400, true},
		{2, 2, 0x1000, true},
		{-1, 2, 0x1000, true},
		{1, 2, 0x1000, true}, // interface match beats configuration match
		{-1, -1, 0x0200, true},
	} {
		m, ok := ParseMBIMDescriptor(raw, tc.cfg, tc.iface)
		if ok != tc.ok || m.MaxControlMessage != tc.want {
			t.Errorf("cfg %d if %d: %#x %v, want %#x", tc.cfg, tc.iface, m.MaxControlMessage, ok, tc.want)
		}
	}
	if _, ok := ParseMBIMDescriptor(usbDescriptors(1, 2, config(1, 1, [][]byte{ifDesc(0, 0, 0, 0xff, 0, 0)})), -1, -1); ok {
		t.Fatal("found a descriptor that is not there")
	}
	// Truncated and zero-length descriptors end the walk without panicking.
	for _, bad := range [][]byte{nil, {0}, {0x0c, 0x24, 0x1b}, {0x00, 0x24, 0x1b, 0, 0, 0, 0, 0, 0, 0, 0, 0}, raw[:len(raw)-3]} {
		ParseMBIMDescriptor(bad, -1, -1)
	}
}

func TestNaturalLess(t *testing.T) {
	in := []string{"/dev/cdc-wdm10", "/dev/wwan0mbim0", "/dev/cdc-wdm2", "/dev/cdc-wdm0", "/dev/cdc-wdm1"}
	sort.Slice(in, func(i, j int) bool { return naturalLess(in[i], in[j]) })
	want := []string{"/dev/cdc-wdm0", "/dev/cdc-wdm1", "/dev/cdc-wdm2", "/dev/cdc-wdm10", "/dev/wwan0mbim0"}
	if !reflect.DeepEqual(in, want) {
		t.Fatal(in)
	}
}

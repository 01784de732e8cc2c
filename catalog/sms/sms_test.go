package sms

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "sms", "533fbeeb14fe44679f9033a223e56c3f")
}

// The hex of set and query messages below came from libmbim 1.28's builders
// (mbim_message_sms_*_new, information buffer only). The hex of responses
// and notifications was encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_sms_*_parse, which gave the same field values.
func TestWire(t *testing.T) {
	pduRecord := SmsPduSendRecord{PduData: mbim.Bytes{1, 2, 3, 4, 5}}
	cdmaRecord := SmsCdmaSendRecord{Encoding: SmsCdmaEncoding7bitAscii, Language: SmsCdmaLangEnglish, Address: "123", EncodedMessage: mbim.Bytes{0xaa, 0xbb, 0xcc}, EncodedMessageSizeInCharacters: 4}
	tests := []struct {
		name       string
		msg, fresh mbim.Info
		hex        string
	}{
		{"configuration set", &ConfigurationSet{Format: SmsFormatPdu, ScAddress: "+1234"}, new(ConfigurationSet),
			"000000000c0000000a0000002b0031003200330034000000"},
		{"read query", &ReadQuery{Format: SmsFormatPdu, Flag: SmsFlagIndex, MessageIndex: 7}, new(ReadQuery),
			"000000000100000007000000"},
		// mbim_message_sms_send_set_new (MBIM_SMS_FORMAT_PDU, {5, 0102030405}, NULL)
		{"send set pdu", &SendSet{Format: SmsFormatPdu, PduMessage: pduRecord}, new(SendSet),
			"0000000008000000050000000102030405000000"},
		// mbim_message_sms_send_set_new (MBIM_SMS_FORMAT_CDMA, NULL, {2, 1, "123", 3, aabbcc, 4})
		{"send set cdma", &SendSet{Format: SmsFormatCdma, CdmaMessage: cdmaRecord}, new(SendSet),
			"0100000002000000010000001c000000060000002400000003000000040000003100320033000000aabbcc00"},
		{"delete set", &DeleteSet{Flag: SmsFlagIndex, MessageIndex: 3}, new(DeleteSet),
			"0100000003000000"},
		{"configuration response", &ConfigurationResponse{SmsStorageState: SmsStorageStateInitialized, Format: SmsFormatPdu, MaxMessages: 50, CdmaShortMessageSize: 160, ScAddress: "+4479"}, new(ConfigurationResponse),
			"010000000000000032000000a0000000180000000a0000002b0034003400370039000000"},
		{"read response", &ReadResponse{Format: SmsFormatPdu, PduMessages: []SmsPduReadRecord{
			{MessageIndex: 1, MessageStatus: SmsStatusNew, PduData: mbim.Bytes{0x07, 0x91, 0x44, 0x77}},
			{MessageIndex: 2, MessageStatus: SmsStatusOld, PduData: mbim.Bytes{0x00, 0x04, 0x0b, 0x91, 0x44, 0x77}},
		}}, new(ReadNotify),
			"000000000200000018000000140000002c0000001800000001000000000000001000000004000000079144770200000001000000100000000600000000040b9144770000"},
		{"send response", &SendResponse{MessageReference: 42}, new(SendResponse), "2a000000"},
		{"message-store-status response", &MessageStoreStatusResponse{Flag: SmsStatusFlagNewMessage, MessageIndex: 9}, new(MessageStoreStatusNotify),
			"0200000009000000"},
	}
	for _, tt := range tests {
		mbimtest.CheckWire(t, tt.name, tt.msg, tt.fresh, tt.hex)
	}

	// The record of the format that is not selected is neither encoded nor
	// decoded.
	both := &SendSet{Format: SmsFormatCdma, PduMessage: pduRecord, CdmaMessage: cdmaRecord}
	if got, err := mbim.Marshal(both); err != nil || hex.EncodeToString(got) != "0100000002000000010000001c000000060000002400000003000000040000003100320033000000aabbcc00" {
		t.Errorf("send set cdma with a pdu record too: %x, %v", got, err)
	}
	var s SendSet
	if err := s.UnmarshalMBIM(mustHex(t, "0100000002000000010000001c000000060000002400000003000000040000003100320033000000aabbcc00")); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.CdmaMessage, cdmaRecord) || !reflect.DeepEqual(s.PduMessage, SmsPduSendRecord{}) {
		t.Errorf("send set decoded as %+v", s)
	}
}

// TestReadCdma checks the CDMA records of a read response (Format cdma):
// the hex was parsed by libmbim 1.28's mbim_message_sms_read_response_parse
// as one CDMA record with these values.
func TestReadCdma(t *testing.T) {
	b := mustHex(t, "0100000001000000100000006400000004000000030000002c0000000e0000003c00000022000000020000000100000060000000020000000200000035003500350031003200330034000000320034002f00300032002f00320039002c00320033003a00350039003a0035003800000048690000")
	want := []SmsCdmaReadRecord{{MessageIndex: 4, MessageStatus: SmsStatusSent, Address: "5551234", Timestamp: "24/02/29,23:59:58", Encoding: SmsCdmaEncoding7bitAscii, Language: SmsCdmaLangEnglish, EncodedMessage: mbim.Bytes{0x48, 0x69}, EncodedMessageSizeInCharacters: 2}}
	var r ReadResponse
	if err := r.UnmarshalMBIM(b); err != nil {
		t.Fatal(err)
	}
	if r.Format != SmsFormatCdma || len(r.PduMessages) != 0 || !reflect.DeepEqual(r.CdmaMessages, want) {
		t.Fatalf("got %+v", r)
	}
	enc, err := mbim.Marshal(&r)
	if err != nil || !bytes.Equal(enc, b) {
		t.Errorf("Marshal = %x, %v\nwant %x", enc, err, b)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

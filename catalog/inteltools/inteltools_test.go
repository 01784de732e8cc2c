package inteltools

import "testing"

func TestService(t *testing.T) {
	if Service.Name != "intel-tools" || Service.UUID.String() != "4ada4962-b988-46c3-87a7-97f20f994abb" {
		t.Errorf("service %s %s", Service.Name, Service.UUID)
	}
}

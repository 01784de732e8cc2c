package googlecarrierlock

import "testing"

func TestService(t *testing.T) {
	if Service.Name != "google" || Service.UUID.String() != "3e1e92cf-c53d-4f14-85d0-a86ad9e12245" {
		t.Errorf("service %s %s", Service.Name, Service.UUID)
	}
}

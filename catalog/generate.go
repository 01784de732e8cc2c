package catalog

//go:generate go run ../internal/mbimgen -root ..

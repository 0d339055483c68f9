package natsig

import "encoding/json"

// Codec turns values into the bytes stored in a key and back. Every process
// sharing a key must use the same codec. Unmarshal must not keep data.
type Codec[T any] interface {
	Marshal(v T) ([]byte, error)
	Unmarshal(data []byte) (T, error)
}

// JSON returns the default codec, encoding/json.
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

func (jsonCodec[T]) Marshal(v T) ([]byte, error) { return json.Marshal(v) }

func (jsonCodec[T]) Unmarshal(data []byte) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// NewCodec returns a Codec made of two functions.
func NewCodec[T any](marshal func(T) ([]byte, error), unmarshal func([]byte) (T, error)) Codec[T] {
	if marshal == nil || unmarshal == nil {
		panic("natsig: NewCodec needs both functions")
	}
	return funcCodec[T]{marshal, unmarshal}
}

type funcCodec[T any] struct {
	marshal   func(T) ([]byte, error)
	unmarshal func([]byte) (T, error)
}

func (c funcCodec[T]) Marshal(v T) ([]byte, error)      { return c.marshal(v) }
func (c funcCodec[T]) Unmarshal(data []byte) (T, error) { return c.unmarshal(data) }

"""Whole maps as numpy arrays: every key and every value read in batches
(``LOOKUP_BATCH``) straight into two arrays, no Python object per entry.  Needs
numpy (``pip install skelgen-runtime[numpy]``), imported when first used."""

from __future__ import annotations

from ..cdata.codec import Codec, PerCpuCodec
from ..events.arrays import dtype_of, numpy_module
from ..lean.hints import TYPE_CHECKING, Any
from ..uapi.bpf import Cmd
from .batch import BatchableMap, read_all_raw

if TYPE_CHECKING:
    import numpy


def codec_dtype(codec: Codec) -> numpy.dtype[Any]:
    """The dtype of one key or value: per-CPU values are an array of one element
    per possible CPU, each padded to 8 bytes as the kernel lays them out (a padded
    number becomes a record of one field, ``value``)."""
    np = numpy_module()
    if isinstance(codec, PerCpuCodec):
        item = dtype_of(codec.item.ctype, codec.item.size, codec.what)
        if item.itemsize != codec.stride:
            # a number becomes the one field "value" of a padded record
            names = list(item.names) if item.names is not None else ["value"]
            fields = item.fields or {"value": (item, 0)}
            item = np.dtype(
                {
                    "names": names,
                    "formats": [fields[n][0] for n in names],
                    "offsets": [fields[n][1] for n in names],
                    "itemsize": codec.stride,
                }
            )
        return np.dtype((item, (codec.ncpus,)))  # type: ignore[no-any-return]
    return dtype_of(codec.ctype, codec.size, codec.what)


def map_arrays(
    m: BatchableMap,
) -> tuple[numpy.ndarray[Any, Any], numpy.ndarray[Any, Any]]:
    """(keys, values) of every entry, as two arrays of the map's key and value dtypes."""
    np = numpy_module()
    key_codec, value_codec = m._codecs()
    key_dtype, value_dtype = codec_dtype(key_codec), codec_dtype(value_codec)
    keys_parts, values_parts = [], []
    for keys, values, count in read_all_raw(m, Cmd.MAP_LOOKUP_BATCH):
        keys_parts.append(np.frombuffer(keys, key_dtype, count))
        values_parts.append(np.frombuffer(values, value_dtype, count))
    return _joined(np, keys_parts, key_dtype), _joined(np, values_parts, value_dtype)


def _joined(np: Any, parts: list[Any], dtype: Any) -> numpy.ndarray[Any, Any]:
    if not parts:
        return np.empty(0, dtype)  # type: ignore[no-any-return]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)  # type: ignore[no-any-return]

from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DTYPE_UNSPECIFIED: _ClassVar[DType]
    DTYPE_INT64: _ClassVar[DType]
    DTYPE_FLOAT64: _ClassVar[DType]
    DTYPE_FLOAT32: _ClassVar[DType]
    DTYPE_BOOL: _ClassVar[DType]
    DTYPE_STRING: _ClassVar[DType]
    DTYPE_LIST: _ClassVar[DType]
    DTYPE_STRUCT: _ClassVar[DType]
DTYPE_UNSPECIFIED: DType
DTYPE_INT64: DType
DTYPE_FLOAT64: DType
DTYPE_FLOAT32: DType
DTYPE_BOOL: DType
DTYPE_STRING: DType
DTYPE_LIST: DType
DTYPE_STRUCT: DType

class GetRequest(_message.Message):
    __slots__ = ("entity", "ids", "features", "broadcast", "at", "text_ids", "number_ids")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    BROADCAST_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    TEXT_IDS_FIELD_NUMBER: _ClassVar[int]
    NUMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    entity: str
    ids: _containers.RepeatedCompositeFieldContainer[EntityId]
    features: _containers.RepeatedScalarFieldContainer[str]
    broadcast: Broadcast
    at: int
    text_ids: _containers.RepeatedScalarFieldContainer[str]
    number_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, entity: _Optional[str] = ..., ids: _Optional[_Iterable[_Union[EntityId, _Mapping]]] = ..., features: _Optional[_Iterable[str]] = ..., broadcast: _Optional[_Union[Broadcast, _Mapping]] = ..., at: _Optional[int] = ..., text_ids: _Optional[_Iterable[str]] = ..., number_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class Broadcast(_message.Message):
    __slots__ = ("entity", "id", "features")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    entity: str
    id: EntityId
    features: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entity: _Optional[str] = ..., id: _Optional[_Union[EntityId, _Mapping]] = ..., features: _Optional[_Iterable[str]] = ...) -> None: ...

class EntityId(_message.Message):
    __slots__ = ("text", "number", "composite")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    COMPOSITE_FIELD_NUMBER: _ClassVar[int]
    text: str
    number: int
    composite: CompositeId
    def __init__(self, text: _Optional[str] = ..., number: _Optional[int] = ..., composite: _Optional[_Union[CompositeId, _Mapping]] = ...) -> None: ...

class CompositeId(_message.Message):
    __slots__ = ("parts",)
    PARTS_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedCompositeFieldContainer[IdPart]
    def __init__(self, parts: _Optional[_Iterable[_Union[IdPart, _Mapping]]] = ...) -> None: ...

class IdPart(_message.Message):
    __slots__ = ("text", "number")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    text: str
    number: int
    def __init__(self, text: _Optional[str] = ..., number: _Optional[int] = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ("ids", "columns", "broadcast")
    IDS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    BROADCAST_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedCompositeFieldContainer[EntityId]
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    broadcast: _containers.RepeatedCompositeFieldContainer[Column]
    def __init__(self, ids: _Optional[_Iterable[_Union[EntityId, _Mapping]]] = ..., columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ..., broadcast: _Optional[_Iterable[_Union[Column, _Mapping]]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("name", "dtype", "length", "validity", "values", "offsets", "data", "children")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    OFFSETS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    name: str
    dtype: DType
    length: int
    validity: bytes
    values: bytes
    offsets: bytes
    data: bytes
    children: _containers.RepeatedCompositeFieldContainer[Column]
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[_Union[DType, str]] = ..., length: _Optional[int] = ..., validity: _Optional[bytes] = ..., values: _Optional[bytes] = ..., offsets: _Optional[bytes] = ..., data: _Optional[bytes] = ..., children: _Optional[_Iterable[_Union[Column, _Mapping]]] = ...) -> None: ...

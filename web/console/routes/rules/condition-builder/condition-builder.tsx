// The visual condition builder: groups (all = and / any = or), nested groups, and rows of field +
// operator + value. It edits a ConditionGroup (logic.ts); the rule editor turns it into JSONLogic.
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Card, Input, Radio, Select, Space, Typography } from 'antd';
import { createContext, useCallback, useContext, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  type ConditionGroup,
  type ConditionNode,
  type ConditionRow,
  emptyGroup,
  type FieldType,
  type Operator,
  operatorsFor,
  parseValue,
  type Scalar,
  VALUELESS,
} from './logic.ts';

export interface FieldOption {
  /** The engine's variable path: event.data.amount, member.tier… */
  path: string;
  label: string;
  type: FieldType;
  /** An amount in minor units (event.data.amount): typed in currency units (¥3 → 300), stored as the engine compares it. */
  money?: boolean;
}

interface Props {
  value: ConditionGroup;
  onChange: (tree: ConditionGroup) => void;
  fields: FieldOption[];
  disabled?: boolean;
  /** Minor units in one currency unit (100 for CNY) and its symbol, for money fields. */
  money?: { minorUnits: number; symbol: string };
  /** What an empty builder means where it is used (default: the rules' "every event of the types earns"). */
  emptyText?: string;
}

const MoneyContext = createContext<{ minorUnits: number; symbol: string } | undefined>(undefined);
const EmptyTextContext = createContext<string | undefined>(undefined);

export function ConditionBuilder({ value, onChange, fields, disabled, money, emptyText }: Props) {
  const listId = useId();
  return (
    <MoneyContext.Provider value={money}>
      <EmptyTextContext.Provider value={emptyText}>
        <div data-testid="condition-builder">
          <datalist id={listId}>
            {fields.map((f) => (
              <option key={f.path} value={f.path} label={f.label} />
            ))}
          </datalist>
          <GroupEditor group={value} onChange={onChange} fields={fields} listId={listId} disabled={disabled} depth={0} />
        </div>
      </EmptyTextContext.Provider>
    </MoneyContext.Provider>
  );
}

function newRow(fields: FieldOption[]): ConditionRow {
  // the order amount when the event has one: the most common condition
  const first = fields.find((f) => f.path === 'event.data.amount') ?? fields.find((f) => f.type === 'number') ?? fields[0];
  return { kind: 'row', field: first?.path ?? '', operator: first ? operatorsFor(first.type)[0]! : '==', value: first?.type === 'number' ? null : '' };
}

function GroupEditor({
  group,
  onChange,
  onRemove,
  fields,
  listId,
  disabled,
  depth,
}: {
  group: ConditionGroup;
  onChange: (g: ConditionGroup) => void;
  onRemove?: () => void;
  fields: FieldOption[];
  listId: string;
  disabled?: boolean;
  depth: number;
}) {
  const { t } = useTranslation('rules');
  const emptyRoot = useContext(EmptyTextContext);
  const setChild = (i: number, node: ConditionNode) => onChange({ ...group, children: group.children.map((c, j) => (j === i ? node : c)) });
  const removeChild = (i: number) => onChange({ ...group, children: group.children.filter((_, j) => j !== i) });
  const body = (
    <Space orientation="vertical" style={{ width: '100%' }} size="small">
      <Space wrap>
        <Radio.Group
          aria-label={t('condition.combinator')}
          optionType="button"
          size="small"
          disabled={disabled}
          value={group.combinator}
          onChange={(e) => onChange({ ...group, combinator: e.target.value })}
          options={[
            { value: 'all', label: t('condition.all') },
            { value: 'any', label: t('condition.any') },
          ]}
        />
        <Typography.Text type="secondary">{t(group.combinator === 'all' ? 'condition.allHint' : 'condition.anyHint')}</Typography.Text>
      </Space>
      {group.children.length === 0 ? (
        <Typography.Text type="secondary">{depth === 0 ? (emptyRoot ?? t('condition.emptyRoot')) : t('condition.emptyGroup')}</Typography.Text>
      ) : null}
      {group.children.map((child, i) =>
        child.kind === 'row' ? (
          <RowEditor
            // rows have no ids: the index is their identity while the list is edited
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place, never reordered
            key={i}
            row={child}
            onChange={(row) => setChild(i, row)}
            onRemove={() => removeChild(i)}
            fields={fields}
            listId={listId}
            disabled={disabled}
          />
        ) : (
          <GroupEditor
            // biome-ignore lint/suspicious/noArrayIndexKey: groups are edited in place, never reordered
            key={i}
            group={child}
            onChange={(g) => setChild(i, g)}
            onRemove={() => removeChild(i)}
            fields={fields}
            listId={listId}
            disabled={disabled}
            depth={depth + 1}
          />
        ),
      )}
      {disabled ? null : (
        <Space wrap>
          <Button
            size="small"
            icon={<PlusOutlined />}
            data-testid={depth === 0 ? 'condition-add' : 'condition-add-nested'}
            onClick={() => onChange({ ...group, children: [...group.children, newRow(fields)] })}
          >
            {t('condition.addRow')}
          </Button>
          {depth < 4 ? (
            <Button
              size="small"
              icon={<PlusOutlined />}
              onClick={() =>
                onChange({ ...group, children: [...group.children, { ...emptyGroup(group.combinator === 'all' ? 'any' : 'all'), children: [newRow(fields)] }] })
              }
            >
              {t('condition.addGroup')}
            </Button>
          ) : null}
          {onRemove ? (
            <Button size="small" danger icon={<DeleteOutlined />} onClick={onRemove}>
              {t('condition.removeGroup')}
            </Button>
          ) : null}
        </Space>
      )}
    </Space>
  );
  if (depth === 0) return body;
  return (
    <Card size="small" style={{ background: depth % 2 ? '#fafafa' : '#fff' }}>
      {body}
    </Card>
  );
}

function RowEditor({
  row,
  onChange,
  onRemove,
  fields,
  listId,
  disabled,
}: {
  row: ConditionRow;
  onChange: (r: ConditionRow) => void;
  onRemove: () => void;
  fields: FieldOption[];
  listId: string;
  disabled?: boolean;
}) {
  const { t } = useTranslation('rules');
  const known = fields.find((f) => f.path === row.field);
  const type: FieldType = known?.type ?? 'unknown';
  const operators = operatorsFor(type);
  const operatorOptions = (operators.includes(row.operator) ? operators : [row.operator, ...operators]).map((op) => ({
    value: op,
    label: t(`operator.${op}`),
  }));
  const setField = (field: string) => {
    const next = fields.find((f) => f.path === field);
    const ops = operatorsFor(next?.type ?? 'unknown');
    onChange({ ...row, field, operator: ops.includes(row.operator) ? row.operator : ops[0]! });
  };
  return (
    <Space wrap align="start">
      <Input
        aria-label={t('condition.field')}
        data-testid="condition-field"
        list={listId}
        style={{ width: 240 }}
        value={row.field}
        disabled={disabled}
        placeholder={t('condition.fieldPlaceholder')}
        onChange={(e) => setField(e.target.value)}
      />
      <Select
        aria-label={t('condition.operator')}
        data-testid="condition-operator"
        style={{ width: 130 }}
        value={row.operator}
        disabled={disabled}
        options={operatorOptions}
        onChange={(operator: Operator) =>
          onChange({
            ...row,
            operator,
            value: VALUELESS.has(operator)
              ? null
              : operator === 'between'
                ? [Array.isArray(row.value) ? (row.value[0] ?? null) : row.value, null]
                : operator === 'in' || operator === 'not_in'
                  ? Array.isArray(row.value)
                    ? row.value
                    : row.value === null || row.value === ''
                      ? []
                      : [row.value]
                  : Array.isArray(row.value)
                    ? (row.value[0] ?? null)
                    : row.value,
          })
        }
      />
      {VALUELESS.has(row.operator) ? null : (
        <ValueEditor row={row} type={type} money={known?.money} onChange={(value) => onChange({ ...row, value })} disabled={disabled} />
      )}
      {known && known.label !== known.path.split('.').pop() ? <Typography.Text type="secondary">{known.label}</Typography.Text> : null}
      {disabled ? null : <Button aria-label={t('condition.removeRow')} icon={<DeleteOutlined />} onClick={onRemove} />}
    </Space>
  );
}

const plain = (v: Scalar | undefined) => (v === null || v === undefined ? '' : String(v));

function ValueEditor({
  row,
  type,
  money: isMoney,
  onChange,
  disabled,
}: {
  row: ConditionRow;
  type: FieldType;
  money?: boolean;
  onChange: (v: Scalar | Scalar[]) => void;
  disabled?: boolean;
}) {
  const { t } = useTranslation('rules');
  const currency = useContext(MoneyContext);
  const minor = isMoney && currency ? currency.minorUnits : undefined;
  const prefix = minor ? currency?.symbol : undefined;
  const scalarType: FieldType = type === 'array' ? 'string' : type;
  // a money field's number is typed in currency units and kept in minor units
  const parseScalar = useCallback(
    (s: string) => {
      const v = parseValue(s, scalarType);
      return minor && typeof v === 'number' ? Math.round(v * minor) : v;
    },
    [scalarType, minor],
  );
  const text = useCallback((v: Scalar | undefined) => (minor && typeof v === 'number' ? String(v / minor) : plain(v)), [minor]);
  const parseList = useCallback(
    (s: string) =>
      s
        .split(/[,，]/)
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .map(parseScalar),
    [parseScalar],
  );
  const formatList = useCallback((list: Scalar[]) => list.map(text).join(', '), [text]);
  if (type === 'boolean' && !Array.isArray(row.value)) {
    return (
      <Select
        aria-label={t('condition.value')}
        data-testid="condition-value"
        style={{ width: 120 }}
        disabled={disabled}
        value={row.value === true ? 'true' : row.value === false ? 'false' : undefined}
        onChange={(v: string) => onChange(v === 'true')}
        options={[
          { value: 'true', label: t('condition.true') },
          { value: 'false', label: t('condition.false') },
        ]}
      />
    );
  }
  if (row.operator === 'between') {
    const [low, high] = Array.isArray(row.value) ? row.value : [row.value, null];
    return (
      <Space>
        <TextValue
          label={t('condition.low')}
          testId="condition-value"
          value={low ?? null}
          parse={parseScalar}
          format={text}
          prefix={prefix}
          disabled={disabled}
          onChange={(v) => onChange([v, high ?? null])}
        />
        <Typography.Text>{t('condition.and')}</Typography.Text>
        <TextValue
          label={t('condition.high')}
          testId="condition-value-high"
          value={high ?? null}
          parse={parseScalar}
          format={text}
          prefix={prefix}
          disabled={disabled}
          onChange={(v) => onChange([low ?? null, v])}
        />
      </Space>
    );
  }
  if (row.operator === 'in' || row.operator === 'not_in') {
    return (
      <TextValue
        label={t('condition.values')}
        testId="condition-value"
        width={260}
        placeholder={t('condition.listPlaceholder')}
        value={Array.isArray(row.value) ? row.value : [row.value]}
        parse={parseList}
        format={formatList}
        prefix={prefix}
        disabled={disabled}
        onChange={onChange}
      />
    );
  }
  return (
    <TextValue
      label={t('condition.value')}
      testId="condition-value"
      value={Array.isArray(row.value) ? (row.value[0] ?? null) : row.value}
      parse={parseScalar}
      format={text}
      prefix={prefix}
      disabled={disabled}
      onChange={onChange}
    />
  );
}

/** A text input that keeps what is typed ("1.", "a, ") while the row gets the parsed value. */
function TextValue<V>({
  label,
  testId,
  value,
  parse,
  format,
  onChange,
  disabled,
  width = 160,
  placeholder,
  prefix,
}: {
  label: string;
  testId: string;
  value: V;
  parse: (s: string) => V;
  format: (v: V) => string;
  onChange: (v: V) => void;
  disabled?: boolean;
  width?: number;
  placeholder?: string;
  prefix?: string;
}) {
  const [draft, setDraft] = useState(() => format(value));
  const shown = format(value);
  useEffect(() => {
    // the row changed from outside (raw JSONLogic, another operator): show it
    setDraft((d) => (format(parse(d)) === shown ? d : shown));
  }, [shown, format, parse]);
  return (
    <Input
      aria-label={label}
      data-testid={testId}
      style={{ width }}
      value={draft}
      disabled={disabled}
      placeholder={placeholder}
      prefix={prefix}
      onChange={(e) => {
        setDraft(e.target.value);
        onChange(parse(e.target.value));
      }}
    />
  );
}

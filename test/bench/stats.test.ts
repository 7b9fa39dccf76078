import { floorCalls } from './deploy-path';
import { alternate, callSequence, median, ratio, renderTable, renderText } from './stats';

describe('the bench helpers', () => {
  test('median takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });

  test('ratio says how many times the second the first is', () => {
    expect(ratio(75, 100)).toBe('0.75x');
    expect(ratio(1, 0)).toBe('n/a');
  });

  test('alternate runs every command each round, rotating which goes first', async () => {
    const order: string[] = [];
    const samples = await alternate(3, {
      a: async () => (order.push('a'), 1),
      b: async () => (order.push('b'), 2),
    });
    expect(order).toEqual(['a', 'b', 'b', 'a', 'a', 'b']);
    expect(samples).toEqual({ a: [1, 1, 1], b: [2, 2, 2] });
  });

  test('the table escapes pipes and says how to reproduce each row', () => {
    const table = renderTable([{ section: '1', measure: 'a | b', value: '3 ms', reproduce: 'npm run bench -- x' }]);
    expect(table.split('\n')).toEqual([
      '| Item | Measure | Value | Compared | Reproduce |',
      '| --- | --- | ---: | --- | --- |',
      '| 1 | a \\| b | 3 ms |  | `npm run bench -- x` |',
    ]);
    expect(renderText([{ section: '1', measure: 'm', value: 'v', compared: 'c', reproduce: 'r' }])).toBe('1  m  v  c');
  });

  test('a call sequence counts runs of the same call, errors apart', () => {
    const calls = [
      { operation: 'ListInvalidations' }, { operation: 'ListInvalidations' }, { operation: 'CreateInvalidation', errorCode: 'TooManyInvalidationsInProgress' },
      { operation: 'CreateInvalidation' }, { operation: 'GetInvalidation' },
    ];
    expect(callSequence(calls)).toBe('List x2, Create (TooManyInvalidationsInProgress), Create, Get');
  });

  test('the floor is one CreateInvalidation per 3000 paths', () => {
    expect([1, 3000, 3001, 10_000, 30_000].map(floorCalls)).toEqual([1, 1, 2, 4, 10]);
  });
});

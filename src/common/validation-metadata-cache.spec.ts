import { IsInt, IsString, validateSync } from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata-cache';

class Base {
  @IsString() name!: unknown;
}
class Child extends Base {
  @IsInt() count!: unknown;
}

const failing = (o: object) =>
  validateSync(o)
    .map((e) => e.property)
    .sort();

describe('cacheValidationMetadata', () => {
  beforeAll(() => {
    cacheValidationMetadata();
    cacheValidationMetadata(); // twice: one wrapper
  });

  it('answers the same rules, inherited ones included, from the cache', () => {
    const child = Object.assign(new Child(), { name: 1, count: 'x' });
    expect(failing(child)).toEqual(['count', 'name']);
    expect(failing(child)).toEqual(['count', 'name']);
    expect(failing(Object.assign(new Base(), { name: 2 }))).toEqual(['name']);
  });

  it('forgets what it remembered when a rule is added later', () => {
    class Late {
      @IsString() a!: unknown;
      b!: unknown;
    }
    const late = Object.assign(new Late(), { a: 'ok', b: 'not an int' });
    expect(failing(late)).toEqual([]);
    IsInt()(Late.prototype, 'b');
    expect(failing(late)).toEqual(['b']);
  });
});

/**
 * tools/flags.ts: the one set of flag parsers, and the bridge from the library's option fields
 * to the CLI's flags (src/errors.ts OptionError).
 */
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { OptionError, UserError } from '../../src/errors.ts';
import {
  asCliError, flagName, namesFrom, nonNegativeInt, parseFormat, parseIntFlag, parseIntList, parseList, parseOptionalCount, parsePositive, parseSize,
  parseUnitInterval, positiveInt, positiveNumber,
} from '../../tools/flags.ts';

describe('tools/flags', () => {
  it('parse*: values in range, one-line UserErrors that name the flag and quote the text', () => {
    assert.equal(parseIntFlag('7', '--seed'), 7);
    assert.equal(parseIntFlag('10', '--images', 10), 10);
    assert.throws(() => parseIntFlag('9', '--images', 10), { name: 'UserError', message: '--images: expected an integer >= 10, got "9"' });
    assert.throws(() => parseIntFlag('1.5', '--seed'), { message: '--seed: expected an integer >= 0, got "1.5"' });
    assert.equal(parseOptionalCount(undefined, '--iterations'), undefined);
    assert.throws(() => parseOptionalCount('0', '--iterations'), { message: '--iterations: expected an integer >= 1, got "0"' });
    assert.equal(parsePositive('0.5', '--lr'), 0.5);
    for (const bad of ['0', '-1', 'x', 'Infinity']) assert.throws(() => parsePositive(bad, '--lr'), { message: `--lr: expected a positive number, got ${JSON.stringify(bad)}` });
    assert.equal(parseUnitInterval('1', '--score-threshold'), 1);
    assert.throws(() => parseUnitInterval('', '--score-threshold'), { message: '--score-threshold: expected a number from 0 to 1, got ""' });
    assert.deepEqual(parseSize('256x192'), [256, 192]);
    assert.throws(() => parseSize('256*192'), { message: '--size: expected WIDTHxHEIGHT such as 256x192, got "256*192"' });
    assert.equal(parseFormat('coco'), 'coco');
    assert.throws(() => parseFormat('yolo'), { name: 'UserError', message: '--format: expected voc or coco, got "yolo"' });
    assert.deepEqual(parseList('a,,b'), ['a', 'b']);
    assert.deepEqual(parseIntList('450,500', '--steps'), [450, 500]);
    assert.throws(() => parseIntList('450,x', '--steps'), { message: '--steps: expected an integer >= 0, got "x"' });
  });

  it('commander parsers throw InvalidArgumentError with the same wording', () => {
    assert.equal(positiveInt('--batch-size')('4'), 4);
    assert.throws(() => positiveInt('--batch-size')('abc'), (e: Error) => e instanceof InvalidArgumentError && e.message === '--batch-size: expected a positive integer, got "abc"');
    assert.equal(nonNegativeInt('--seed')('0'), 0);
    assert.throws(() => nonNegativeInt('--seed')('-1'), (e: Error) => e instanceof InvalidArgumentError && e.message === '--seed: expected a non-negative integer, got "-1"');
    assert.equal(positiveNumber('--minutes')('0.25'), 0.25);
    assert.throws(() => positiveNumber('--minutes')('0'), (e: Error) => e instanceof InvalidArgumentError && e.message === '--minutes: expected a positive number, got "0"');
    const models = namesFrom('--models', ['a', 'b', 'c']);
    assert.deepEqual(models('c,a'), ['c', 'a']);
    assert.throws(() => models('a,d'), (e: Error) => e instanceof InvalidArgumentError && e.message === '--models: expected names from a, b, c, got "d"');
    assert.throws(() => models(''), { message: '--models: expected names from a, b, c, got ""' });
    assert.throws(() => models('a,a'), { message: '--models: "a,a" names one twice' });
  });

  it('an OptionError names fields in the library and flags in the CLI', () => {
    assert.equal(flagName('batchSize'), '--batch-size');
    assert.equal(flagName('overrides.checkpointEvery'), '--checkpoint-every');
    assert.equal(flagName('out'), '--out');
    const err = new OptionError((n) => `ckpt: config.train.lr: ${n('lr')} gives 2; leave ${n('minSize')} out (on ${n('resume')} ...)`);
    assert.ok(err instanceof UserError);
    assert.equal(err.name, 'UserError');
    assert.equal(err.message, 'ckpt: config.train.lr: lr gives 2; leave minSize out (on resume ...)');
    const cli = asCliError(err) as Error;
    assert.equal(cli.name, 'UserError');
    assert.equal(cli.message, 'ckpt: config.train.lr: --lr gives 2; leave --min-size out (on --resume ...)');
    assert.ok(cli.stack?.startsWith(`UserError: ${cli.message}`));
    const other = new UserError('x.json: boxes: expected 4 numbers');
    assert.equal(asCliError(other), other);
  });
});

/** The PaymentIntents settings of lambdas/config.ts: defaults, bounds, and errors that name the variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV, loadConfig } from '../../lambdas/config.js';
import { PAYMENT_APIS, PAYMENT_EXPIRY_SECONDS } from '../../lambdas/domain/index.js';

/** No function needs anything here: only the optional settings are read. */
const load = (env: Record<string, string | undefined>) => loadConfig([], env);
const problemsOf = (env: Record<string, string | undefined>): string => {
  try {
    load(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig: PAYMENT_API', () => {
  it.each([undefined, '', '   '])('defaults to payment_intents (%j)', (v) => {
    expect(load({ [ENV.PAYMENT_API]: v }).paymentApi).toBe('payment_intents');
  });

  it.each(PAYMENT_APIS.map((api) => [api, ` ${api} `]))('accepts %s (trimmed)', (api, padded) => {
    expect(load({ [ENV.PAYMENT_API]: api }).paymentApi).toBe(api);
    expect(load({ [ENV.PAYMENT_API]: padded }).paymentApi).toBe(api);
  });

  it.each(['charges', 'SOURCES', 'paymentintents'])('refuses %s, naming the variable and the allowed values', (v) => {
    const message = problemsOf({ [ENV.PAYMENT_API]: v });
    expect(message).toContain('PAYMENT_API');
    for (const api of PAYMENT_APIS) expect(message).toContain(api);
  });
});

describe('loadConfig: PAYMENT_EXPIRY_SECONDS', () => {
  it('defaults to 3600 seconds', () => {
    expect(PAYMENT_EXPIRY_SECONDS.default).toBe(3600);
    expect(load({}).paymentExpirySeconds).toBe(3600);
    expect(load({ [ENV.PAYMENT_EXPIRY_SECONDS]: '' }).paymentExpirySeconds).toBe(3600);
  });

  it.each(['300', '301', '3600', '7199', '7200'])('accepts %s', (v) => {
    expect(load({ [ENV.PAYMENT_EXPIRY_SECONDS]: v }).paymentExpirySeconds).toBe(Number(v));
  });

  it.each(['299', '0', '-3600', '7201', '86400', '600.5', 'one hour', '1e9'])(
    'refuses %s, naming the variable and its bounds',
    (v) => {
      const message = problemsOf({ [ENV.PAYMENT_EXPIRY_SECONDS]: v });
      expect(message).toContain('PAYMENT_EXPIRY_SECONDS');
      expect(message).toContain(`from ${PAYMENT_EXPIRY_SECONDS.min} to ${PAYMENT_EXPIRY_SECONDS.max}`);
      expect([PAYMENT_EXPIRY_SECONDS.min, PAYMENT_EXPIRY_SECONDS.max]).toEqual([300, 7200]);
    },
  );
});

describe('loadConfig: WECHAT_APP_ID', () => {
  it.each([undefined, '', '  '])('is optional (%j): no in-app WeChat Pay', (v) => {
    expect(load({ [ENV.WECHAT_APP_ID]: v }).wechatAppId).toBeUndefined();
  });

  it.each(['wx0123456789abcdef', 'wxABCDEF0123456789'])('accepts a WeChat app id: %s', (id) => {
    expect(load({ [ENV.WECHAT_APP_ID]: id }).wechatAppId).toBe(id);
    expect(load({ [ENV.WECHAT_APP_ID]: ` ${id}\n` }).wechatAppId).toBe(id);
  });

  it.each([
    ['too short', 'wx0123456789abcde'],
    ['too long', 'wx0123456789abcdef0'],
    ['no wx prefix', 'ab0123456789abcdef'],
    ['upper-case prefix', 'WX0123456789abcdef'],
    ['punctuation', 'wx0123456789abcd-f'],
  ])('refuses one %s (%s), naming the variable', (_why, id) => {
    expect(problemsOf({ [ENV.WECHAT_APP_ID]: id })).toContain('WECHAT_APP_ID');
  });
});

describe('loadConfig: several problems at once', () => {
  it('lists every bad setting in one error', () => {
    const message = problemsOf({
      [ENV.PAYMENT_API]: 'charges',
      [ENV.PAYMENT_EXPIRY_SECONDS]: '60',
      [ENV.WECHAT_APP_ID]: 'nope',
    });
    for (const name of ['PAYMENT_API', 'PAYMENT_EXPIRY_SECONDS', 'WECHAT_APP_ID']) expect(message).toContain(name);
    expect(message.split('\n  - ')).toHaveLength(4);
  });

  it('reads all three together when they are valid', () => {
    expect(
      load({
        [ENV.PAYMENT_API]: 'sources',
        [ENV.PAYMENT_EXPIRY_SECONDS]: '900',
        [ENV.WECHAT_APP_ID]: 'wx0123456789abcdef',
      }),
    ).toMatchObject({ paymentApi: 'sources', paymentExpirySeconds: 900, wechatAppId: 'wx0123456789abcdef' });
  });
});

// zod/mini loads no locale, so its issues would all read "Invalid input"; the English one gives the
// messages full zod gave (the API's 400 bodies quote them). Imported by every module that defines schemas.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

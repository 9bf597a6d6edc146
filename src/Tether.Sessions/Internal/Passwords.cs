using System.Text;

namespace Tether.Sessions.Internal;

/// <summary>BCrypt hashing and the checks on names, rights and passwords shared by the store, the manager and the CLI.</summary>
internal static class Passwords
{
    public const int MinWorkFactor = 4;
    public const int MaxWorkFactor = 20;
    public const int MaxPasswordBytes = 72; // BCrypt reads no further: a longer password would be cut silently
    public const int MaxNameLength = 200;

    public static string Hash(string password, int workFactor) => BCrypt.Net.BCrypt.HashPassword(password, workFactor);

    public static bool Verify(string password, string hash)
    {
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false; // a damaged hash in the store: a failed login, never a crash
        }
    }

    public static void CheckWorkFactor(int workFactor)
    {
        if (workFactor is < MinWorkFactor or > MaxWorkFactor)
        {
            throw new TetherException(ErrorCodes.BadRequest, $"The BCrypt work factor must be from {MinWorkFactor} to {MaxWorkFactor}; it is {workFactor}.");
        }
    }

    /// <summary>Throws <see cref="ErrorCodes.BadRequest"/> when the password cannot be used; the text never contains it.</summary>
    public static void CheckPassword(string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            throw new TetherException(ErrorCodes.BadRequest, "The password is empty.");
        }

        if (Encoding.UTF8.GetByteCount(password) > MaxPasswordBytes)
        {
            throw new TetherException(ErrorCodes.BadRequest, $"The password is longer than {MaxPasswordBytes} UTF-8 bytes, all BCrypt reads.");
        }
    }

    public static void CheckUserName(string? userName)
    {
        if (string.IsNullOrEmpty(userName) || string.IsNullOrWhiteSpace(userName))
        {
            throw new TetherException(ErrorCodes.BadRequest, "The user name is empty.");
        }

        if (userName.Length > MaxNameLength)
        {
            throw new TetherException(ErrorCodes.BadRequest, $"The user name has {userName.Length} characters; at most {MaxNameLength} are allowed.");
        }

        foreach (char c in userName)
        {
            if (char.IsControl(c))
            {
                throw new TetherException(ErrorCodes.BadRequest, $"The user name contains a control character (U+{(int)c:X4}).");
            }
        }
    }

    public static void CheckRight(string? right)
    {
        if (string.IsNullOrWhiteSpace(right))
        {
            throw new TetherException(ErrorCodes.BadRequest, "The right is empty.");
        }

        if (right.Length > MaxNameLength)
        {
            throw new TetherException(ErrorCodes.BadRequest, $"The right has {right.Length} characters; at most {MaxNameLength} are allowed.");
        }

        foreach (char c in right)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new TetherException(ErrorCodes.BadRequest, $"The right \"{right}\" contains a space or control character; a right is one word such as orders.place.");
            }
        }
    }
}
